"""How the app holds its Backend: open it after the first frame, show the login
screen when a remote profile has no usable key, close it on exit (``CrewOSApp.on_unmount``,
after held work is sent), and turn the
local service layer's domain events into one coalesced "data changed" signal.

A mixin of ``CrewOSApp``, kept apart so ``app.py`` stays a table of contents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.message import Message

from .launch import LaunchSpec
from .widgets.workers import work

if TYPE_CHECKING:
    from textual.app import App
    from textual.signal import Signal

    from .backend.protocol import Backend
    from .backend.remote import RemoteBackend
    from .connect import Connection
    from .widgets.status_bar import SessionStatus

Opener = Callable[[LaunchSpec], Awaitable["Connection"]]
LIVE_UPDATE_DELAY = 0.2  # s: a burst of domain events becomes one reload
RECONNECT_MIN = 2.0  # s: the first retry when the backend could not be reached at start
RECONNECT_MAX = 60.0  # s: the retries double up to this


async def open_backend(spec: LaunchSpec) -> Connection:
    import asyncio
    import importlib

    # Import the heavy modules in a thread: the event loop keeps drawing meanwhile.
    heavy = "crewos_tui.backend.remote" if spec.mode == "remote" else "crewos_tui.backend.local.backend"
    try:
        await asyncio.to_thread(importlib.import_module, heavy)
        from .connect import open_backend as open_

        return await open_(spec)
    finally:
        settle_heap()


def settle_heap() -> None:
    """Move everything alive now (modules, classes, the ORM's and Textual's caches)
    out of the garbage collector's sight. Without this, every full collection walks
    that whole heap again: measured, a third of the board's first-cards time goes to
    collections triggered while Textual renders. Nothing here is garbage-in-waiting:
    these objects live as long as the app. Once per process: a later freeze would
    also pin whatever an earlier app (a test, a reconnect) left behind."""
    global _heap_settled
    import gc

    if not _heap_settled:
        _heap_settled = True
        gc.freeze()  # no gc.collect() first: it costs ~0.1 s here and finds nothing to free
    gc.enable()  # ``cli.main`` turns the collector off for start-up (imports make no garbage worth it)


_heap_settled = False


class DataChanged(Message):
    """A domain event was committed (local mode). Queued bursts merge into one."""

    def __init__(self, project_ids: set[str | None]) -> None:
        super().__init__()
        self.project_ids = project_ids

    def can_replace(self, message: Message) -> bool:
        if isinstance(message, DataChanged):
            message.project_ids |= self.project_ids
            return True
        return False


if TYPE_CHECKING:
    _App = App[int]  # the mixin's host: CrewOSApp
else:
    _App = object


class BackendHolder(_App):
    # Set up by CrewOSApp.__init__; declared for the type checker.
    spec: LaunchSpec
    backend: Backend | None
    key_source: str | None
    session: SessionStatus | None
    backend_ready: Signal[Backend]
    data_changed: Signal[frozenset[str | None]]
    connection_back: Signal[Backend]
    _opener: Opener
    _unsubscribe: Callable[[], None] | None
    _changed: set[str | None]
    _change_timer: Any
    _connect_tries: int = 0  # failed attempts to reach the backend since the last success
    _reconnect_timer: Any = None

    def update_session(self, **changes: Any) -> None:
        assert self.session is not None
        was = self.session.health
        self.session = replace(self.session, **changes)
        if was in ("offline", "signed-out") and self.session.health == "online" and self.backend is not None:
            # Back after an outage, on the same backend (a reconnect goes through "connecting"
            # and backend_ready instead): the screens fetch again what they could not.
            self.connection_back.publish(self.backend)

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        from .connect import LoginRequired

        if self._reconnect_timer is not None:
            self._reconnect_timer.stop()
            self._reconnect_timer = None
        await self._close_backend()
        self.update_session(health="connecting")
        try:
            conn = await self._opener(self.spec)
        except LoginRequired as exc:
            self.update_session(health="signed-out")
            self.show_login(str(exc))
            return
        except Exception as exc:
            if self._offline_at_start(exc):
                return
            raise
        self.backend, self.key_source = conn.backend, conn.key_source
        try:
            me = await conn.backend.auth.me()
        except Exception as exc:
            if self._offline_at_start(exc):
                return
            raise
        self._connect_tries = 0
        self.update_session(health="online", username=me.username, role=str(getattr(me.role, "value", me.role)),
                            key_source=conn.key_source)
        subscribe: Callable[..., Any] | None = getattr(conn.backend, "subscribe", None)
        if callable(subscribe):
            self._unsubscribe = subscribe(self._on_domain_event)
        self.backend_ready.publish(conn.backend)

    def _offline_at_start(self, exc: BaseException) -> bool:
        """Connecting failed: offline. When the server could not be reached, try again by
        itself (``RECONNECT_MIN`` s, doubling to ``RECONNECT_MAX``), so that a server that
        was down at start is found once it is up. True when this failure was already said
        (the first one is reported; the retries are quiet)."""
        from .backend.errors import Unavailable

        self.update_session(health="offline")
        if not isinstance(exc, Unavailable):
            return False
        self._connect_tries += 1
        delay = min(RECONNECT_MAX, RECONNECT_MIN * 2 ** (self._connect_tries - 1))
        self._reconnect_timer = self.set_timer(delay, self.connect, name="reconnect")
        return self._connect_tries > 1

    async def _close_backend(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        backend, self.backend = self.backend, None
        if backend is not None:
            await backend.close()

    def make_remote(self, url: str, **kwargs: Any) -> RemoteBackend:
        """A client for ``url`` (login, key rotation); tests swap in an in-process transport."""
        from .backend.remote import RemoteBackend

        return RemoteBackend(url, **kwargs)

    def show_login(self, reason: str) -> None:
        from .screens.login import LoginScreen

        def after_login(_url: str | None) -> None:
            self.connect()

        if not any(isinstance(s, LoginScreen) for s in self.screen_stack):
            self.push_screen(LoginScreen(self.spec.url, self.spec.username, reason), after_login)

    def signed_in(self, url: str, username: str) -> None:
        self.spec = replace(self.spec, url=url, username=username)

    # ---- live updates (local mode) -------------------------------------------------

    def _on_domain_event(self, event: Any) -> None:
        # Called by the service layer after each commit; post_message is thread-safe.
        self.post_message(DataChanged({getattr(event, "project_id", None)}))

    def on_data_changed(self, message: DataChanged) -> None:
        self._changed |= message.project_ids
        if self._change_timer is None:
            self._change_timer = self.set_timer(LIVE_UPDATE_DELAY, self._publish_changes)

    def _publish_changes(self) -> None:
        changed, self._changed, self._change_timer = frozenset(self._changed), set(), None
        self.data_changed.publish(changed)
