"""The one-line bar at the top of every screen: where you are and who you are.

It shows the current screen, the profile, a LOCAL / DEMO / REMOTE badge, the
signed-in user and role, connection health, the unread-notifications slot and,
for remote profiles, where the API key came from. It reads ``app.session`` (a
``SessionStatus``) and redraws whenever the app replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from textual.content import Content
from textual.widget import Widget

from .safe_text import visible

if TYPE_CHECKING:
    from textual import getters
    from textual.app import App

Health = Literal["connecting", "online", "offline", "signed-out"]

_HEALTH_TEXT: dict[Health, str] = {
    "connecting": "◌ connecting",
    "online": "● online",
    "offline": "○ offline",
    "signed-out": "○ signed out",
}


_HEALTH_COLOUR: dict[Health, str] = {
    "connecting": "warning",
    "online": "success",
    "offline": "error",
    "signed-out": "error",
}
_BADGE_COLOUR = {"DEMO": "secondary", "LOCAL": "success", "REMOTE": "primary"}


@dataclass(frozen=True)
class SessionStatus:
    profile: str
    badge: str  # LOCAL | DEMO | REMOTE
    health: Health = "connecting"
    username: str | None = None
    role: str | None = None
    key_source: str | None = None  # keyring | env | session (remote only)
    unread: int | None = None  # None until a notifications slice fills it


class StatusBar(Widget):
    """``screen_title`` is the screen's own name with its mode key, e.g. "1 Projects".

    One widget drawing one line (not a row of Labels): it is on every first frame,
    and every widget there costs start-up time."""

    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    DEFAULT_CSS = """
    StatusBar { dock: top; height: 1; background: $panel; }
    """

    def __init__(self, screen_title: str) -> None:
        super().__init__(id="status-bar")
        self._screen_title = screen_title
        self._status: SessionStatus | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "session", self._show, init=True)

    def _show(self, status: SessionStatus | None) -> None:
        self._status = status
        self.refresh()

    def render(self) -> Content:
        left = Content.from_markup("[b $accent] $title [/]", title=self._screen_title)
        status = self._status
        if status is None:
            return left
        left += Content.from_markup(
            f" [$text-muted]$profile[/] [b $text on ${_BADGE_COLOUR.get(status.badge, 'primary')}] $label [/]",
            profile=visible(status.profile), label=status.badge,
        )
        parts: list[Content] = []
        if status.username:
            parts.append(Content.from_markup("[b]$user[/] ($role)", user=visible(status.username),
                                             role=visible(status.role or "")))
        if status.key_source:
            from ..secrets import KEY_PLACES_SHORT

            label = KEY_PLACES_SHORT.get(status.key_source, f"key:{status.key_source}")
            parts.append(Content.from_markup("[$text-muted]$label[/]", label=visible(label)))
        colour = _HEALTH_COLOUR[status.health]
        parts.append(Content.from_markup(f"[${colour}]$health[/]", health=_HEALTH_TEXT[status.health]))
        parts.append(Content(f"✉ {'–' if status.unread is None else status.unread}"))
        right = Content("  ").join(parts) + Content(" ")
        gap = max(1, self.size.width - left.cell_length - right.cell_length)
        return left + Content(" " * gap) + right
