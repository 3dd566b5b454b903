"""What every top-level screen shares: the status bar and footer frame, access to
the backend, the one reload path (``Reloads``: when the backend arrives, data
changes, the connection comes back after an outage, or on ``ctrl+r``), and the one
place a failed worker becomes a notification."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from ..widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from ..app import CrewOSApp
    from ..backend.protocol import Backend


class ReportsWorkerErrors:
    """Mixin: a worker that failed (``exit_on_error=False``) is reported, not raised.

    Worker.StateChanged does not bubble, so each node that starts workers (the app,
    each screen) mixes this in; the report itself lives in ``CrewOSApp.report_error``.
    """

    if TYPE_CHECKING:
        @property
        def app(self) -> CrewOSApp: ...  # Textual's own `app` is App[Unknown]; these nodes live in CrewOSApp

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = cast("Worker[Any]", event.worker)  # pyright: ignore[reportUnknownMemberType]  # Textual: a bare Worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            app: Any = self.app
            app.report_error(worker.error)


class SaysWhyKeysAreOff:
    """App mixin: a key whose action is shown disabled (``check_action`` answered None:
    dimmed in the footer) is refused aloud, at once, instead of doing nothing.

    The node the action belongs to may explain itself with ``refusal(action) -> str``
    (the same rule that dimmed it); without one the toast names the action and says it
    is not available here. Hidden actions (``check_action`` False) stay silent."""

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        if await super().run_action(action, default_namespace, namespaces):  # type: ignore[misc]
            return True
        if not isinstance(action, str):
            return False
        app: Any = self
        target, name, params = app._parse_action(action, app if default_namespace is None else default_namespace,
                                                 namespaces)
        if target.check_action(name, params) is not None:
            return False  # ran and declined, or hidden: nothing to explain
        explain = getattr(target, "refusal", None)
        why = explain(name) if callable(explain) else ""
        app.say(str(why) or f"Not available here right now ({name.replace('_', ' ')}).", severity="warning")
        return True


def reload_binding(name: str) -> Binding:
    """``ctrl+r`` on screen ``name``, shown in the footer and the help, id ``<name>.reload``."""
    return Binding("ctrl+r", "reload", "Reload", tooltip="Reload everything shown",
                   id=f"{name}.reload")


class Reloads:
    """Mixin: the one reload path of a screen that shows backend data.

    ``reload()`` fetches what the screen shows (in workers); the screen implements it.
    ``forget_cached()`` drops what ``reload()`` keeps between calls (a list of choices,
    namespaces, kinds), so that ``reload_all()``, which is both, fetches everything.
    Who calls what:

    - the backend arriving (``backend_ready``) and live updates (``data_changed``,
      ``BackendScreen.on_data_changed``): ``reload()``, now if the screen is on top,
      else when it is next shown;
    - the connection coming back after an outage (``connection_back``: the status bar
      goes from offline to online) and ``ctrl+r``: ``reload_all()``, likewise.
    """

    if TYPE_CHECKING:
        @property
        def app(self) -> CrewOSApp: ...
        @property
        def is_current(self) -> bool: ...

    _stale: bool = False  # data changed while the screen was not on top
    _stale_all: bool = False  # the connection came back while the screen was not on top

    def reload(self) -> None:
        """Fetch everything the screen shows (in workers)."""

    def forget_cached(self) -> None:
        """Drop what ``reload`` keeps between calls, so the next one fetches it too."""

    def reload_all(self) -> None:
        """``ctrl+r``, and the connection back after an outage: fetch everything again."""
        self.forget_cached()
        self.reload()

    def follow_the_connection(self) -> None:
        """On mount: reload everything when the connection comes back."""
        self.app.connection_back.subscribe(self, self._connection_back)  # type: ignore[arg-type]

    def _connection_back(self, _backend: object) -> None:
        if self.app.backend is None:
            return
        if self.is_current:
            self.reload_all()
        else:
            self._stale_all = True

    def action_reload(self) -> None:
        app = self.app
        health = app.session.health if app.session is not None else None
        if app.backend is None:
            if health != "connecting":
                app.connect()  # never connected (the server was down at start): try again now
            return
        self.reload_all()
        if health == "offline":
            app.unread_watcher.check()  # ask now whether the connection is back, for the status bar

    def on_screen_resume(self) -> None:
        if self.app.backend is None:
            return
        if self._stale_all:
            self._stale_all = self._stale = False
            self.reload_all()
        elif self._stale:
            self._stale = False
            self.reload()


class BackendScreen(Reloads, ReportsWorkerErrors, Screen[None]):
    """A mode screen. Subclasses set ``MODE``, implement ``compose_body`` and ``reload``
    (and ``forget_cached`` if ``reload`` keeps something), and bind ``ctrl+r`` to
    ``reload``, shown, with the id ``<MODE>.reload``."""

    MODE: ClassVar[str] = ""
    #: Actions that only make sense on a sub-view (tab) of the screen: action -> views.
    #: ``check_action`` hides them elsewhere, the palette switches to the view first.
    VIEW_ACTIONS: ClassVar[dict[str, tuple[str, ...]]] = {}

    @property
    def crewos(self) -> CrewOSApp:
        return self.app  # type: ignore[return-value]

    @property
    def backend(self) -> Backend:
        backend = self.crewos.backend
        if backend is None:
            from ..backend.errors import Unavailable

            raise Unavailable("not connected yet")
        return backend

    def compose(self) -> ComposeResult:
        from .registry import mode

        spec = mode(self.MODE)
        yield StatusBar(f"{spec.key} {spec.title}")
        yield from self.compose_body()
        yield Lazy(Footer(compact=True))  # after the first frame: every key is a widget

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.crewos.backend_ready.subscribe(self, lambda _backend: self.reload())
        self.crewos.data_changed.subscribe(self, self.on_data_changed)
        self.follow_the_connection()
        if self.crewos.backend is not None:
            self.call_after_refresh(self.reload)

    def on_data_changed(self, project_ids: frozenset[str | None]) -> None:
        """Live update (local mode): someone changed data; by default reload now if
        the screen is on top, else when it is next shown (behind a dialog, another mode)."""
        if self.crewos.backend is None:
            return
        if self.is_current:
            self.reload()
        else:
            self._stale = True

    # ---- actions for the command palette and help ----------------------------------

    def current_view(self) -> str | None:
        """The active sub-view (tab) name, for ``VIEW_ACTIONS``."""
        return None

    def show_view(self, view: str) -> None:
        """Switch to a sub-view so one of its actions can run."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        views = self.VIEW_ACTIONS.get(action)
        return views is None or self.current_view() in views

    def screen_bindings(self) -> Iterable[Binding]:
        for item in self.BINDINGS:
            if isinstance(item, Binding):
                yield item

    def run_from_palette(self, action: str) -> None:
        views = self.VIEW_ACTIONS.get(action)
        if views and self.current_view() not in views:
            self.show_view(views[0])
        self.call_after_refresh(self.run_action, action)
