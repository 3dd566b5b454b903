"""Sessions: create, list, detail with messages, update, close, archive."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, Invalid
from ....principal import Principal
from ....schemas import (
    ChatSession,
    ChatSessionCreate,
    ChatSessionDetail,
    ChatSessionUpdate,
    Page,
)
from ....schemas.common import DEFAULT_LIMIT
from ...agents import get_agent
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import ChatSessionRow, SessionShareRow, UserRow
from .._common import require_user
from ..projects.access import load_project, member_clause
from .access import SessionAccess, load_session
from .convert import (
    message_count_column,
    messages_of,
    session_model,
    session_with_counts,
)

SCOPES = ("mine", "shared", "invited")


def _tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))


async def new_session(ctx: ServiceContext, s: AsyncSession, principal: Principal, *, title: str = "",
                      project_id: str | None = None, agent: str | None = None,
                      tags: list[str] | None = None) -> ChatSessionRow:
    """A new active session owned by the caller (also used when chat starts one)."""
    if principal.user_id is None:
        raise Forbidden("sessions belong to a user; act as one")
    if project_id:
        await load_project(s, principal, project_id)
    if agent:
        agent = get_agent(agent).name
    now = ctx.clock.now()
    sid = ctx.ids.new()
    row = ChatSessionRow(id=sid, owner_id=principal.user_id, title=title, project_id=project_id or None,
                         agent=agent, tags=_tags(tags or []), last_activity_id=sid, created_at=now, updated_at=now)
    s.add(row)
    await s.flush()
    await ctx.events.emit(s, principal, "session.created", "chat_session", row.id, row.project_id,
                          user_id=principal.user_id, title=row.title)
    return row


class SessionCore:
    ctx: ServiceContext

    @idempotent(ChatSession)
    async def create(self, principal: Principal, data: ChatSessionCreate) -> ChatSession:
        require_user(principal)
        async with self.ctx.db.transaction() as s:
            row = await new_session(self.ctx, s, principal, title=data.title, project_id=data.project_id,
                                    agent=data.agent, tags=data.tags)
            return await session_with_counts(s, row)

    async def list(
        self,
        principal: Principal,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
        scope: str | None = None,
        project_id: str | None = None,
    ) -> Page[ChatSession]:
        """Sessions the caller owns or accepted, most recently active first.

        ``status`` filters (active|closed|archived; without it archived ones are left
        out); ``scope`` narrows to ``mine``, ``shared`` (accepted) or ``invited`` (pending
        invitations to the caller, listed so they can be accepted)."""
        require_user(principal)
        if status is not None and status not in ("active", "closed", "archived"):
            raise Invalid("status must be active, closed or archived")
        if scope is not None and scope not in SCOPES:
            raise Invalid(f"scope must be one of {', '.join(SCOPES)}")
        uid = principal.user_id
        share = and_(col(SessionShareRow.session_id) == col(ChatSessionRow.id), col(SessionShareRow.invitee_id) == uid,
                     col(SessionShareRow.status).in_(("accepted", "pending")))
        stmt = (select(ChatSessionRow, col(UserRow.username), col(SessionShareRow.id), col(SessionShareRow.status),
                       message_count_column())
                .join(UserRow, col(UserRow.id) == col(ChatSessionRow.owner_id)).outerjoin(SessionShareRow, share))
        mine, accepted = col(ChatSessionRow.owner_id) == uid, col(SessionShareRow.status) == "accepted"
        stmt = stmt.where({"mine": mine, "shared": accepted, "invited": col(SessionShareRow.status) == "pending"}
                          .get(scope or "", or_(mine, accepted)))
        stmt = stmt.where(col(ChatSessionRow.status) == status if status else col(ChatSessionRow.status) != "archived")
        if not principal.is_admin:  # someone else's project session shows while the caller may read the project
            stmt = stmt.where(or_(mine, col(ChatSessionRow.project_id).is_(None),
                                  member_clause(col(ChatSessionRow.project_id), uid)))
        if project_id:
            stmt = stmt.where(col(ChatSessionRow.project_id) == project_id)

        def convert(r) -> ChatSession:
            row, owner, share_id, share_status, count = r
            if row.owner_id == uid:
                return session_model(row, owner, count)
            return session_model(row, owner, count, "shared" if share_status == "accepted" else "invited", share_id)

        async with self.ctx.db.read() as s:
            return await paginate(s, stmt, [col(ChatSessionRow.last_activity_id), col(ChatSessionRow.id)],
                                  lambda r: [r[0].last_activity_id, r[0].id], convert,
                                  limit=limit, cursor=cursor, descending=True)

    async def get(self, principal: Principal, session_id: str) -> ChatSessionDetail:
        async with self.ctx.db.read() as s:
            acc = await load_session(s, principal, session_id)
            base = await session_with_counts(s, acc.row, acc.access, acc.share_id)
            return ChatSessionDetail(**base.model_dump(), messages=await messages_of(s, session_id, principal.user_id))

    async def update(self, principal: Principal, session_id: str, data: ChatSessionUpdate) -> ChatSession:
        fields = data.model_dump(exclude_unset=True)
        if not fields:
            raise Invalid("nothing to update: give title, tags, agent and/or project_id")
        async with self.ctx.db.transaction() as s:
            acc = await load_session(s, principal, session_id)
            acc.owner_only("editing a session")
            acc.not_archived()
            row, changed = acc.row, []
            if data.title is not None and data.title != row.title:
                row.title = data.title
                changed.append("title")
            if data.tags is not None and _tags(data.tags) != row.tags:
                row.tags = _tags(data.tags)
                changed.append("tags")
            if "agent" in fields and data.agent != row.agent:
                row.agent = get_agent(data.agent).name if data.agent else None
                changed.append("agent")
            if "project_id" in fields and data.project_id != row.project_id:
                if data.project_id:
                    await load_project(s, principal, data.project_id)
                row.project_id = data.project_id or None
                changed.append("project_id")
            if changed:
                row.updated_at = self.ctx.clock.now()
                await self.ctx.events.emit(s, principal, "session.updated", "chat_session", row.id, row.project_id,
                                           user_id=row.owner_id, changed=changed, title=row.title)
            return await session_with_counts(s, row)

    async def _set_status(self, principal: Principal, session_id: str, status: str) -> ChatSession:
        async with self.ctx.db.transaction() as s:
            acc: SessionAccess = await load_session(s, principal, session_id)
            acc.owner_only(f"{'closing' if status == 'closed' else 'archiving'} a session")
            row = acc.row
            if row.status == status:
                raise Conflict(f"session is already {status}")
            if status == "closed" and row.status != "active":
                raise Conflict(f"only an active session can be closed (this one is {row.status})")
            now = self.ctx.clock.now()
            row.status, row.updated_at = status, now
            if status == "closed":
                row.closed_at = now
            else:
                row.archived_at = now
            await self.ctx.events.emit(s, principal, f"session.{status}", "chat_session", row.id, row.project_id,
                                       user_id=row.owner_id, title=row.title)
            return await session_with_counts(s, row)

    async def close(self, principal: Principal, session_id: str) -> ChatSession:
        return await self._set_status(principal, session_id, "closed")

    async def archive(self, principal: Principal, session_id: str) -> ChatSession:
        return await self._set_status(principal, session_id, "archived")
