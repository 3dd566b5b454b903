"""Attention without looking: a decision that arrives while the terminal is not focused
raises a desktop notification and marks the terminal title until the user comes back.

- The terminal tells Textual when it gains or loses focus (focus reporting, which
  Textual's driver switches on); ``App.app_focus`` follows it. A terminal that never
  reports focus never looks unfocused, so it never gets these.
- The notification travels in the terminal's own stream, so it reaches the machine the
  user sits at through ssh: OSC 9 (iTerm2, WezTerm, kitty, Ghostty, Windows Terminal)
  and OSC 777 ``notify`` (rxvt-unicode, foot, kitty, VTE builds that carry it). Both go out unless
  the environment names a terminal that speaks one of them. Inside tmux they are
  wrapped in its passthrough (``ESC P tmux; … ESC \\``), which tmux 3.3+ forwards when
  ``allow-passthrough`` is on.
- The title mark is OSC 2, after saving the title the user had (XTWINOPS push, CSI 22 t)
  and restored (pop, CSI 23 t) when the terminal is focused again; a terminal without
  the title stack keeps the plain app title.

What counts as a decision: the notification kinds that wait for this user's yes or no
(``DECISION_KINDS``). Titles and bodies are other people's text: every sequence is
built by the pure functions below, which drop control characters (ESC, BEL, C1's ST
and CSI, newlines), bidi and other format characters, and cap the length.

On by default (``desktop_notifications`` in the config); ``CREWOS_TUI_DESKTOP_NOTIFICATIONS=0``
turns it off for a run (the test suite sets it), ``=1`` on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend.schemas import Notification

ENV = "CREWOS_TUI_DESKTOP_NOTIFICATIONS"
#: Notification kinds that ask this user to decide something (``backend/local/services/notifications/rules.py``).
DECISION_KINDS = frozenset(
    {
        "review.requested",
        "token.request_awaiting_approval",
        "project.access_requested",
        "project.folder_update_proposed",
    }
)
MARK = "●"
MAX_TEXT = 200  # characters of a title or body in a notification

ESC, BEL = "\x1b", "\x07"
PUSH_TITLE = f"{ESC}[22;0t"  # XTWINOPS: save the icon and window title
POP_TITLE = f"{ESC}[23;0t"  # ...and restore them

_DROPPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, format (bidi, zero width), surrogates, separators
_OFF, _ON = ("0", "false", "no", "off"), ("1", "true", "yes", "on")


# ---- the escape sequences (pure) ---------------------------------------------------


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` safe inside an OSC string: one line, no control or format characters
    (nothing a terminal would act on: ESC, BEL, C1 ST/CSI, DEL), at most ``limit``."""
    kept = (" " if unicodedata.category(ch) in _DROPPED else ch for ch in text)
    one_line = " ".join("".join(kept).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def osc9(message: str) -> str:
    # A leading "digit;" is a ConEmu/Windows Terminal sub-command (9;4 = progress): callers
    # start the message with the app name.
    return f"{ESC}]9;{clean(message)}{BEL}"


def osc777(title: str, body: str) -> str:
    # ";" separates the fields: the title must not contain one (the body is the last field).
    return f"{ESC}]777;notify;{clean(title).replace(';', ',')};{clean(body)}{BEL}"


def title_sequence(title: str) -> str:
    """OSC 2: set the terminal's window title."""
    return f"{ESC}]2;{clean(title)}{BEL}"


def tmux_passthrough(sequence: str) -> str:
    """``sequence`` for tmux to hand to the outer terminal as it is (every ESC doubled)."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ESC}\\"


def notification_protocols(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Which of OSC 9 / OSC 777 to send. Both, unless the terminal is known to speak one
    (then only that one: a terminal that knows both would show the message twice)."""
    term = environ.get("TERM", "").lower()
    program = environ.get("TERM_PROGRAM", "").lower()
    if environ.get("TMUX"):
        return ("osc9", "osc777")  # TERM and TERM_PROGRAM describe tmux, not the terminal outside
    if term.startswith(("rxvt", "foot")) or environ.get("VTE_VERSION"):
        return ("osc777",)
    if (
        program in ("iterm.app", "wezterm", "ghostty")
        or term in ("xterm-kitty", "xterm-ghostty")
        or environ.get("WT_SESSION")
    ):
        return ("osc9",)
    return ("osc9", "osc777")


def desktop_notification(title: str, body: str, environ: Mapping[str, str], app_name: str = "crewos") -> str:
    """Everything to write for one desktop notification, tmux-wrapped when ``$TMUX`` is set."""
    parts: list[str] = []
    for protocol in notification_protocols(environ):
        if protocol == "osc9":
            parts.append(osc9(f"{app_name}: {title}" + (f" — {body}" if body else "")))
        else:
            parts.append(osc777(f"{app_name}: {title}", body))
    if environ.get("TMUX"):
        parts = [tmux_passthrough(p) for p in parts]
    return "".join(parts)


def desktop_notifications_on(configured: bool, environ: Mapping[str, str]) -> bool:
    """The config's setting, unless ``CREWOS_TUI_DESKTOP_NOTIFICATIONS`` says otherwise."""
    value = environ.get(ENV, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    return configured


def marked_title(base: str, waiting: int) -> str:
    return f"{MARK} {base} — {waiting} {'decision' if waiting == 1 else 'decisions'} waiting"


# ---- the app's side ----------------------------------------------------------------


class Attention:
    """Told of new notifications by the unread watcher; writes to the terminal only while
    it is not focused, and takes the title mark away when focus comes back."""

    def __init__(self, app: Any, *, enabled: bool, environ: Mapping[str, str]) -> None:
        self.app = app
        self.enabled = enabled
        self._environ = dict(environ)
        self._base_title: str = app.title
        self.waiting = 0  # decisions that arrived since the terminal lost focus
        app.watch(app, "app_focus", self._focus_changed, init=False)

    def notice(self, new: Sequence[Notification]) -> None:
        if not self.enabled or self.app.app_focus:
            return
        decisions = [n for n in new if n.kind in DECISION_KINDS]
        if not decisions:
            return
        if len(decisions) == 1:
            title, body = decisions[0].title, decisions[0].body
        else:
            title, body = f"{len(decisions)} decisions wait for you", "; ".join(n.title for n in decisions)
        out = PUSH_TITLE if not self.waiting else ""
        self.waiting += len(decisions)
        marked = marked_title(self._base_title, self.waiting)
        self._write(out + desktop_notification(title, body, self._environ) + title_sequence(marked))
        self.app.title = marked

    def _focus_changed(self, focused: bool) -> None:
        if focused:
            self.clear()

    def clear(self) -> None:
        """Take the mark away (focus is back, or the app is ending)."""
        if not self.waiting:
            return
        self.waiting = 0
        self.app.title = self._base_title
        self._write(title_sequence(self._base_title) + POP_TITLE)

    def _write(self, data: str) -> None:
        driver = self.app._driver  # what Textual's copy_to_clipboard writes to, too
        if driver is not None:
            driver.write(data)
