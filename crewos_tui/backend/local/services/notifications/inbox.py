"""A user's own notifications: list, unread count, read, read all, dismiss.

Everyone — admins included — sees only their own notifications; another user's
notification is 404, as if it did not exist. Unread means neither read nor
dismissed; a dismissed notification leaves the list.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Forbidden, Invalid, NotFound
from ....principal import Principal
from ....schemas import Notification, NotificationLink, Page, ReadAllResult, UnreadCount
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...pagination import paginate
from ...tables import NotificationRow
from .._common import require_user
from .rules import KINDS

_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
N = NotificationRow


def owner_of(principal: Principal) -> str:
    """The user whose notifications the caller reads: always the caller."""
    require_user(principal)
    if principal.user_id is None:
        raise Forbidden("notifications belong to a user; act as one (for example with --as)")
    return principal.user_id


def unread_clause():  # a SQLAlchemy expression
    # Must match the partial index ix_notifications_unread term for term.
    return and_(col(N.read_at).is_(None), col(N.dismissed_at).is_(None))


def notification_model(row: NotificationRow) -> Notification:
    return Notification(
        id=row.id, kind=row.kind, title=row.title, body=row.body,
        link=NotificationLink(resource_type=row.resource_type, resource_id=row.resource_id,
                              project_id=row.project_id),
        actor=row.actor, created_at=row.created_at, read_at=row.read_at, dismissed_at=row.dismissed_at,
    )


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid(f"unknown notification kind {kind!r} (GET /api/v1/notifications/preferences lists them)")
    return kind


def _bound_id(value: str) -> str:
    normalized = value.strip().upper()
    if not _ULID.match(normalized):
        raise Invalid(f"up_to_id {value!r} is not a notification id (26 characters, Crockford base32)")
    return normalized


def _bound_time(value: datetime | str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())  # 3.11 reads "Z" too
        except ValueError:
            raise Invalid(f"up_to {value!r} is not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise Invalid("up_to must be an ISO 8601 time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid("up_to needs a time zone (for example 2026-03-02T09:00:00Z)")
    return value


class NotificationInbox:
    ctx: ServiceContext

    async def _own(self, s: AsyncSession, user_id: str, notification_id: str) -> NotificationRow:
        row = await s.get(NotificationRow, notification_id)
        if row is None or row.user_id != user_id:  # another user's: as if it did not exist
            raise NotFound(f"notification {notification_id} not found")
        return row

    async def list(
        self,
        principal: Principal,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        unread: bool | None = None,
        kind: str | None = None,
        project_id: str | None = None,
    ) -> Page[Notification]:
        """The caller's notifications, newest first; ``unread`` True/False filters, None is all."""
        uid = owner_of(principal)
        stmt = select(NotificationRow).where(col(N.user_id) == uid)
        if unread is True:
            stmt = stmt.where(unread_clause())
        else:
            stmt = stmt.where(col(N.dismissed_at).is_(None))
            if unread is False:
                stmt = stmt.where(col(N.read_at).is_not(None))
        if kind is not None:
            stmt = stmt.where(col(N.kind) == check_kind(kind))
        if project_id is not None:
            stmt = stmt.where(col(N.project_id) == project_id)
        async with self.ctx.db.read() as s:
            return await paginate(s, stmt, [col(N.id)], lambda r: [r.id], notification_model,
                                  limit=limit, cursor=cursor, descending=True)

    async def unread_count(self, principal: Principal) -> UnreadCount:
        uid = owner_of(principal)
        async with self.ctx.db.read() as s:
            count, latest = (await s.execute(
                select(func.count(), func.max(col(N.id))).where(col(N.user_id) == uid, unread_clause()))).one()
        return UnreadCount(unread=int(count or 0), latest_id=latest)

    async def mark_read(self, principal: Principal, notification_id: str) -> Notification:
        uid = owner_of(principal)
        async with self.ctx.db.transaction() as s:
            row = await self._own(s, uid, notification_id)
            if row.read_at is None:  # reading twice keeps the first time
                row.read_at = self.ctx.clock.now()
                await self.ctx.events.emit(s, principal, "notification.read", "notification", row.id,
                                           user_id=uid, notification_kind=row.kind)
            return notification_model(row)

    async def dismiss(self, principal: Principal, notification_id: str) -> Notification:
        uid = owner_of(principal)
        async with self.ctx.db.transaction() as s:
            row = await self._own(s, uid, notification_id)
            if row.dismissed_at is None:
                row.dismissed_at = self.ctx.clock.now()
                await self.ctx.events.emit(s, principal, "notification.dismissed", "notification", row.id,
                                           user_id=uid, notification_kind=row.kind)
            return notification_model(row)

    async def read_all(
        self, principal: Principal, up_to_id: str | None = None, up_to: datetime | str | None = None
    ) -> ReadAllResult:
        """Mark every unread notification read — only up to ``up_to_id`` (inclusive) or
        ``up_to`` when given, so one that arrived after the user looked stays unread."""
        uid = owner_of(principal)
        if up_to_id is not None and up_to is not None:
            raise Invalid("give up_to_id or up_to, not both")
        bound_id = _bound_id(up_to_id) if up_to_id is not None else None
        bound_time = _bound_time(up_to) if up_to is not None else None
        now = self.ctx.clock.now()
        stmt = update(NotificationRow).where(col(N.user_id) == uid, unread_clause())
        if bound_id is not None:
            stmt = stmt.where(col(N.id) <= bound_id)
        if bound_time is not None:
            stmt = stmt.where(col(N.created_at) <= bound_time)
        async with self.ctx.db.transaction() as s:
            result = await s.execute(stmt.values(read_at=now).execution_options(synchronize_session=False))
            marked = cast(CursorResult[Any], result).rowcount
            if marked:
                await self.ctx.events.emit(s, principal, "notification.read_all", "notification", uid,
                                           user_id=uid, marked=marked, up_to_id=bound_id,
                                           up_to=bound_time.isoformat() if bound_time else None)
        return ReadAllResult(marked=marked or 0, read_at=now, up_to_id=bound_id, up_to=bound_time)
