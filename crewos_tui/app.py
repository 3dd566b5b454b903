"""CrewOSApp: the modes, the global keys, and the one Backend every screen uses.

The first frame needs only Textual and a few light widgets. The backend (ORM,
service layer, or httpx) is opened in a worker after mounting, so start-up costs
about what a Textual hello-world costs; screens load their data once it arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.signal import Signal

from .app_backend import BackendHolder, Opener, open_backend
from .held_work import ExitGuard
from .keys import adopt_escape_digits, replay, split_escape
from .launch import LaunchSpec
from .screens.base import ReportsWorkerErrors, SaysWhyKeysAreOff
from .screens.registry import MODES as MODE_SPECS
from .toasts import ToastStack
from .widgets.status_bar import SessionStatus

if TYPE_CHECKING:
    from .backend.protocol import Backend


STYLES = Path(__file__).parent / "styles"


def _palette() -> Any:
    from .commands_palette import (
        CrewOSCommands,  # imported when the palette first opens
    )

    return CrewOSCommands


class CrewOSApp(SaysWhyKeysAreOff, ExitGuard, BackendHolder, ReportsWorkerErrors, App[int]):
    TITLE = "crewos"
    # Every style sheet at once: a screen that brings its own CSS_PATH later makes
    # Textual re-parse the whole stylesheet, which costs the first frame ~50 ms.
    CSS_PATH: ClassVar[list[str | PurePath]] = sorted(STYLES.glob("*.tcss"))
    MODES: ClassVar[dict[str, Any]] = {m.name: m.factory() for m in MODE_SPECS}
    DEFAULT_MODE = MODE_SPECS[0].name
    COMMANDS: ClassVar[set[Any]] = {lambda: _palette()}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("A", "account", "Account", show=False, id="app.account"),
        *(Binding(m.key, f"switch_mode('{m.name}')", m.title, show=False, id=f"app.mode.{m.name}") for m in MODE_SPECS),
    ]

    session: reactive[SessionStatus | None] = reactive(None, always_update=True)

    def __init__(self, spec: LaunchSpec, *, opener: Opener | None = None, cursor_blink: bool = True,
                 handle_signals: bool = False) -> None:
        super().__init__()
        self.spec = spec
        self.handle_signals = handle_signals  # run_app: SIGTERM/SIGHUP/SIGINT send held work, then exit
        self.backend: Backend | None = None
        self.key_source: str | None = None
        self.cursor_blink = cursor_blink  # read by TextInput; off in snapshot tests
        self._opener: Opener = opener or open_backend
        self.backend_ready: Signal[Backend] = Signal(self, "backend-ready")
        self.data_changed: Signal[frozenset[str | None]] = Signal(self, "data-changed")
        #: The status bar went from offline (or signed out) back to online: every open screen reloads.
        self.connection_back: Signal[Backend] = Signal(self, "connection-back")
        self._unsubscribe: Callable[[], None] | None = None
        self._changed: set[str | None] = set()
        self._change_timer: Any = None
        self.set_reactive(CrewOSApp.session, SessionStatus(spec.profile, spec.badge))
        # Textual's one collection of toasts, replaced by one that coalesces repeats and
        # keeps the stack short (``toasts.py``): every toast, ours or Textual's, goes there.
        self._notifications = ToastStack()
        self.init_exit_guard()
        adopt_escape_digits()

    async def on_event(self, event: events.Event) -> None:
        # Escape-then-key that arrived as one Alt+key (SSH, tmux): the two keys, in turn.
        if isinstance(event, events.Key) and self.screen_stack and (
                keys := split_escape(event, self.screen.active_bindings)) is not None:
            self.run_worker(replay(self, keys), group="escape-then-key", exit_on_error=False)
            return
        await super().on_event(event)

    # ---- start-up ------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.handle_signals:
            self.install_signal_handlers()
        self.set_keymap(dict(self.spec.keymap))
        self._apply_theme()
        # Open the backend only once the first frame is on screen: its imports would
        # otherwise compete with the first paint for the interpreter.
        self.call_after_refresh(self.connect)
        self.attention = self._attention()
        from .unread_watch import UnreadWatcher  # light: the unread badge and toasts

        self.unread_watcher = UnreadWatcher(self)

    def _apply_theme(self) -> None:
        """The profile's theme, else an ANSI one on a 16-colour terminal (``themes.py``)."""
        import os
        import sys

        from .themes import pick_theme

        theme = pick_theme(self.spec.theme, os.environ, windows=sys.platform == "win32")
        if not theme:
            return
        try:
            self.theme = theme
        except Exception:  # noqa: BLE001 - an unknown theme name is not worth a crash
            self.say(f"Unknown theme {theme!r}; using the default.", severity="warning")

    def _attention(self) -> Any:
        """Desktop notification and title mark for decisions while the terminal is unfocused."""
        import os

        from .attention import Attention, desktop_notifications_on

        return Attention(self, enabled=desktop_notifications_on(self.spec.desktop_notifications, os.environ),
                         environ=os.environ)

    async def on_unmount(self) -> None:
        # Every way out ends here, after the screens are gone: send what is still held
        # (a crash or a dead terminal skipped ``exit``), then close the backend.
        attention = getattr(self, "attention", None)
        if attention is not None:
            attention.clear()  # the title the user had, not our mark
        if self.held_count():
            self.unsent += await self.flush_held()
        await self._close_backend()

    # ---- errors and messages -------------------------------------------------------

    def say(self, message: str, severity: str = "information") -> None:
        """A toast of backend text (see ``notify``)."""
        self.notify(message, severity=severity)  # type: ignore[arg-type]

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast is shown literally: toasts quote backend text (names, errors), so
        markup is never parsed (``markup`` is accepted for Textual's signature and
        ignored) and control characters are made visible (``widgets/safe_text.py``).
        A repeat of a toast still showing counts up on it (``toasts.py``)."""
        from .widgets.safe_text import visible

        del markup
        super().notify(visible(message, multiline=True), title=visible(title), severity=severity,
                       timeout=timeout, markup=False)

    def on_markdown_link_clicked(self, event: Any) -> None:
        """A link in Markdown (agent replies, knowledge, transcripts: text from others) opens
        only after a yes; every ``Markdown`` widget is built with ``open_links=False``."""
        from .widgets.confirm import ConfirmModal
        from .widgets.safe_text import literal

        href = str(getattr(event, "href", ""))
        if not href:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.open_url(href)

        self.push_screen(ConfirmModal("Open link", literal(f"Open {href} in the browser?", multiline=True),
                                      yes="Open"), answer)

    def report_error(self, error: BaseException) -> None:
        """The one place a failure becomes something a user reads. Never a traceback."""
        from .backend.errors import CrewOSError, Unauthorized, Unavailable
        from .widgets.format import error_text

        if isinstance(error, Unauthorized) and self.spec.mode == "remote":
            self.update_session(health="signed-out")
            self.show_login(f"The server refused the key: {error}")
            return
        if isinstance(error, Unavailable):
            self.update_session(health="offline")
        elif not isinstance(error, CrewOSError):
            self.log.error(f"unexpected {error!r}")  # devtools only; the user gets one line
        self.say(error_text(error), severity="error")

    # ---- global actions ------------------------------------------------------------

    def key_of(self, binding: Binding) -> str:
        """The key(s) a binding has after the user's keymap, as the footer shows them."""
        keys = self.spec.keymap.get(binding.id or "", binding.key)
        return " ".join(self.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))

    def action_help(self) -> None:
        from .screens.help import HelpScreen, help_sections

        if self.screen.id != "help":
            self.push_screen(HelpScreen(help_sections(self, self.screen)))

    def action_account(self) -> None:
        from .screens.account import AccountScreen

        self.push_screen(AccountScreen())

    def action_reconnect(self) -> None:
        self.connect()


def run_app(spec: LaunchSpec) -> int:
    import gc

    # Everything imported so far lives as long as the process: move it out of the
    # collector's way, so start-up does not pay for full collections over it.
    gc.freeze()
    app = CrewOSApp(spec, handle_signals=True)
    app.run()
    code = app.return_code or 0
    if app.unsent:  # the terminal is restored by now
        from . import paths
        from .held_work import report_unsent

        report_unsent(app.unsent, spec.data_dir or paths.data_dir(), spec.profile)
        code = code or 1
    return code
