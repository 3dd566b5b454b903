"""Domain events: every state change is recorded once, in the transaction that made it.

A service calls ``ctx.events.emit(session, principal, kind, ...)``. That writes a
``domain_events`` row and runs the *in-transaction* handlers (later slices add the
audit chain and notification producers there), so they commit or roll back with
the change. *After-commit* listeners (live updates of open screens in local mode)
are called only once the transaction has committed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..ids import Clock, IdGenerator
from ..principal import Principal
from .tables import DomainEventRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    id: str
    kind: str
    actor_id: str | None
    actor: str
    auth_method: str
    resource_type: str
    resource_id: str
    project_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


InTransactionHandler = Callable[[AsyncSession, DomainEvent], Awaitable[None]]
AfterCommitListener = Callable[[DomainEvent], None]

_PENDING_KEY = "crewos_pending_events"
#: How many of its own event ids a bus remembers (for ``emitted_here``).
OWN_IDS_KEPT = 10_000


class EventBus:
    def __init__(self, clock: Clock, ids: IdGenerator) -> None:
        self._clock = clock
        self._ids = ids
        self._handlers: list[InTransactionHandler] = []
        self._listeners: list[AfterCommitListener] = []
        self._own: OrderedDict[str, None] = OrderedDict()

    def add_handler(self, handler: InTransactionHandler) -> None:
        """Run ``handler`` inside the emitting transaction (audit, notifications)."""
        self._handlers.append(handler)

    def subscribe(self, listener: AfterCommitListener) -> Callable[[], None]:
        """Call ``listener`` after each committed event; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def emit(
        self,
        session: AsyncSession,
        principal: Principal,
        kind: str,
        resource_type: str,
        resource_id: str,
        project_id: str | None = None,
        **data: Any,
    ) -> DomainEvent:
        now = self._clock.now()
        ev = DomainEvent(
            id=self._ids.new(),
            kind=kind,
            actor_id=principal.user_id,
            actor=principal.username,
            auth_method=principal.auth_method,
            resource_type=resource_type,
            resource_id=resource_id,
            project_id=project_id,
            data=data,
            created_at=now,
        )
        self._own[ev.id] = None  # before the commit: a watcher may read the row before after_commit runs
        if len(self._own) > OWN_IDS_KEPT:
            self._own.popitem(last=False)
        session.add(
            DomainEventRow(
                id=ev.id,
                kind=kind,
                actor_id=ev.actor_id,
                actor=ev.actor,
                auth_method=ev.auth_method,
                resource_type=resource_type,
                resource_id=resource_id,
                project_id=project_id,
                data=data,
                created_at=now,
            )
        )
        for handler in self._handlers:
            await handler(session, ev)
        self._queue_after_commit(session, ev)
        return ev

    def _queue_after_commit(self, session: AsyncSession, ev: DomainEvent) -> None:
        sync = session.sync_session
        pending: list[DomainEvent] | None = sync.info.get(_PENDING_KEY)
        if pending is None:
            pending = sync.info[_PENDING_KEY] = []

            def after_commit(_s: Any) -> None:
                events = sync.info.pop(_PENDING_KEY, [])
                for e in events:
                    self._notify(e)

            def after_rollback(_s: Any, *_transaction: Any) -> None:  # (session, previous transaction)
                sync.info.pop(_PENDING_KEY, None)

            sa_event.listen(sync, "after_commit", after_commit, once=True)
            sa_event.listen(sync, "after_soft_rollback", after_rollback, once=True)
        pending.append(ev)

    def emitted_here(self, event_id: str) -> bool:
        """Whether this bus emitted ``event_id`` (so its listeners heard it after commit)."""
        if event_id in self._own:
            del self._own[event_id]  # seen once: forget it
            return True
        return False

    def deliver(self, ev: DomainEvent) -> None:
        """Hand a committed event of another process to the after-commit listeners
        (``commit_watch.py``)."""
        self._notify(ev)

    def _notify(self, ev: DomainEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(ev)
            except Exception:  # a broken listener must not break the service call
                log.exception("event listener failed for %s", ev.kind)
