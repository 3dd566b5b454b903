"""Keeps the status bar's unread badge current and pops a toast for each new notification.

- Local mode: every committed domain event (the app's ``data_changed`` signal, fed
  by the service layer's after-commit listeners) triggers a recount, and no poll: the
  service layer also reports the commits of other processes on the same data dir (a
  ``crewos-tui serve``, a second TUI; ``backend/local/commit_watch.py``) within a
  second.
- Remote mode: polls ``unread-count``. The interval starts at ``POLL_MIN`` and
  doubles while nothing changes (up to ``POLL_IDLE_MAX``) and while the server
  fails (up to ``POLL_ERROR_MAX``); any change brings it back to ``POLL_MIN``. An
  outage shows as the status bar's "offline" (never a modal); the first answer
  after it brings "online" back.

A toast appears only for notifications newer than the newest one already known
when the app connected (the backlog is not news), and only if the user's
preferences say toasts are on; kinds a user switched off are never produced. New ones
that ask for a decision also go to ``attention.py`` (desktop notification, title mark)
whatever the toast setting, when the terminal is not focused.
Light on purpose: imported by the app at start-up, it loads no backend module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.signal import Signal

if TYPE_CHECKING:
    from .app import CrewOSApp
    from .backend.protocol import Backend
    from .backend.schemas import Notification, UnreadCount

POLL_MIN = 2.0  # s
POLL_IDLE_MAX = 30.0
POLL_ERROR_MAX = 60.0
TOAST_MAX = 3  # more new ones at once become a single "N new notifications" toast
TOAST_SECONDS = 6.0


class UnreadWatcher:
    def __init__(self, app: CrewOSApp) -> None:
        self.app = app
        #: Published with the new ``UnreadCount`` whenever the count or the newest unread
        #: notification changes (the notifications screen reloads on it in remote mode).
        self.changed: Signal[UnreadCount] = Signal(app, "unread-changed")
        self.interval = POLL_MIN
        self.failures = 0
        self.last: UnreadCount | None = None
        self._backend: Backend | None = None
        self._primed = False  # the first count after connecting: its backlog is not toasted
        self._seen = ""  # the newest notification id known (ids sort by time)
        self._timer: Any = None
        app.backend_ready.subscribe(app, self._on_backend)
        app.data_changed.subscribe(app, self._on_data_changed)

    # ---- triggers ------------------------------------------------------------------

    def _on_backend(self, backend: Backend) -> None:
        self._backend, self.last, self._primed, self._seen = backend, None, False, ""
        self.interval, self.failures = POLL_MIN, 0
        self.check()

    def _on_data_changed(self, _project_ids: Any) -> None:
        self.check()

    def check(self) -> None:
        """Count now (after the user read or dismissed something, or data changed)."""
        if self._backend is not None and self._backend is self.app.backend:
            self.app.run_worker(self._check(self._backend), group="unread", exclusive=True, exit_on_error=False)

    def _schedule(self, backend: Backend) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if backend.mode == "local" and not self.failures:
            return  # data_changed brings every commit, this process's and the others'; a failure retries
        self._timer = self.app.set_timer(self.interval, self.check, name="unread-poll")

    # ---- one check -----------------------------------------------------------------

    async def _check(self, backend: Backend) -> None:
        try:
            count = await backend.notifications.unread_count()
            new = await self._new_since_last(backend, count)
        except Exception as exc:  # noqa: BLE001 - a failed poll must never reach the user as an error
            if backend is self.app.backend:
                self._failed(exc)
                self._schedule(backend)
            return
        if backend is not self.app.backend:
            return  # reconnected meanwhile: the new backend has its own checks
        changed = self.last is None or (count.unread, count.latest_id) != (self.last.unread, self.last.latest_id)
        self.last, self.failures = count, 0
        self.interval = POLL_MIN if changed else min(self.interval * 2, POLL_IDLE_MAX)
        session = self.app.session
        if session is not None and (session.unread != count.unread or session.health in ("offline", "signed-out")):
            self.app.update_session(unread=count.unread, health="online")
        if changed:
            self.changed.publish(count)
        if new:
            attention = getattr(self.app, "attention", None)
            if attention is not None:
                attention.notice(new)  # a decision while the terminal is not focused: tell the desktop
            await self._toast(backend, new)
        self._schedule(backend)

    async def _new_since_last(self, backend: Backend, count: UnreadCount) -> list[Notification]:
        latest = count.latest_id or ""
        if not self._primed:
            self._primed, self._seen = True, latest
            return []
        if latest <= self._seen:
            return []
        page = await backend.notifications.list(limit=TOAST_MAX + 1, unread=True)
        new = [n for n in page.items if n.id > self._seen]
        self._seen = latest
        return new

    def _failed(self, exc: BaseException) -> None:
        from .backend.errors import Unauthorized

        self.failures += 1
        self.interval = min(max(self.interval, POLL_MIN) * 2, POLL_ERROR_MAX)
        health = "signed-out" if isinstance(exc, Unauthorized) else "offline"
        if self.app.session is not None and self.app.session.health != health:
            self.app.update_session(health=health)

    async def _toast(self, backend: Backend, new: list[Notification]) -> None:
        try:
            if not (await backend.notifications.get_preferences()).toasts:
                return
        except Exception:  # noqa: BLE001 - no preferences now: show the toast, the default
            self.app.log.warning("notification preferences unavailable; toasting anyway")
        if len(new) > TOAST_MAX:  # the page asked for one more than we show: "3+"
            self.app.notify(f"{TOAST_MAX}+ new notifications{_where()}", title="Notifications",
                            timeout=TOAST_SECONDS, markup=False)
            return
        for n in reversed(new):  # oldest first, so the newest ends on top
            self.app.notify(n.body or n.title, title=n.title, timeout=TOAST_SECONDS, markup=False)


def _where() -> str:
    from .screens.registry import MODES

    spec = next((m for m in MODES if m.name == "notifications"), None)
    return f" (press {spec.key})" if spec else ""
