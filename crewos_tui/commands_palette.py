"""The one command-palette provider: every screen (mode), the current screen's
actions and the app's own commands, searchable by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import CrewOSApp

Command = tuple[str, str, Callable[[], Any]]


class CrewOSCommands(Provider):
    def _commands(self) -> Iterator[Command]:
        from .screens.base import BackendScreen
        from .screens.registry import MODES

        app: CrewOSApp = self.app  # type: ignore[assignment]
        for mode in MODES:
            yield (f"Go to {mode.title}", f"Switch to the {mode.title.lower()} screen ({mode.key})",
                   partial(app.switch_mode, mode.name))
        screen = self.screen
        if isinstance(screen, BackendScreen):
            title = type(screen).__name__.removesuffix("Screen")
            for binding in screen.screen_bindings():
                yield (f"{title}: {binding.description}", binding.tooltip or f"key {app.key_of(binding)}",
                       partial(screen.run_from_palette, binding.action))
        yield "Keys", "Show every key of this screen (?)", app.action_help
        yield "Account", "Who you are, where your API key comes from; rotate the key", app.action_account
        yield "Reconnect", "Open the backend again", app.action_reconnect
        yield "Theme", "Change the colour theme", app.action_change_theme
        yield "Quit", "Leave crewos-tui", app.action_quit

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
