"""What every top-level screen shares: the status bar and footer frame, access to
the backend, reloading when the backend arrives or data changes, and the one
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


class BackendScreen(ReportsWorkerErrors, Screen[None]):
    """A mode screen. Subclasses set ``MODE`` and implement ``compose_body`` and ``reload``."""

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
        if self.crewos.backend is not None:
            self.call_after_refresh(self.reload)

    def reload(self) -> None:
        """Fetch everything the screen shows (in workers)."""

    def on_data_changed(self, project_ids: frozenset[str | None]) -> None:
        """Live update (local mode): someone changed data; by default reload now if
        the screen is on top, else when it is next shown (behind a dialog, another mode)."""
        if self.crewos.backend is None:
            return
        if self.is_current:
            self.reload()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if getattr(self, "_stale", False) and self.crewos.backend is not None:
            self._stale = False
            self.reload()

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
