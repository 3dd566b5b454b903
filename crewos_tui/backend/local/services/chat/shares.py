"""Sharing a session: invite a user, the invitee accepts, either side revokes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, NotFound
from ....principal import Principal
from ....schemas import Page, SessionShare, SessionShareCreate
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import ChatSessionRow, SessionShareRow, UserRow
from .._common import require_user
from ..auth import principal_for_user
from ..projects.access import may_read
from .access import load_session
from .convert import share_model


async def require_project_reader(s: AsyncSession, session: ChatSessionRow, reader: Principal) -> None:
    """A session bound to a project is shared only with someone who may read that project."""
    if session.project_id is None or await may_read(s, reader, session.project_id):
        return
    raise Forbidden(f"{reader.username} cannot read the project this session belongs to, so it cannot be "
                    "shared with them; a project owner can add them as a member first")


class SessionShares:
    ctx: ServiceContext

    async def list_shares(
        self, principal: Principal, session_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[SessionShare]:
        """Invitations of a session (the owner sees all; an invitee sees their own)."""
        async with self.ctx.db.read() as s:
            acc = await load_session(s, principal, session_id)
            stmt = (select(SessionShareRow, col(UserRow.username))
                    .join(UserRow, col(UserRow.id) == col(SessionShareRow.invitee_id))
                    .where(col(SessionShareRow.session_id) == session_id))
            if not acc.is_owner:
                stmt = stmt.where(col(SessionShareRow.invitee_id) == principal.user_id)
            return await paginate(s, stmt, [col(SessionShareRow.id)], lambda r: [r[0].id],
                                  lambda r: share_model(r[0], r[1]), limit=limit, cursor=cursor)

    @idempotent(SessionShare)
    async def create_share(self, principal: Principal, session_id: str, data: SessionShareCreate) -> SessionShare:
        """Invite a user; the session becomes visible to them once they accept."""
        async with self.ctx.db.transaction() as s:
            acc = await load_session(s, principal, session_id)
            acc.owner_only("sharing a session")
            acc.not_archived()
            stmt = select(UserRow).where(col(UserRow.id) == data.user_id if data.user_id else
                                         col(UserRow.username) == (data.username or "").strip())
            user = await s.scalar(stmt)
            if user is None:
                raise NotFound(f"user {data.user_id or data.username!r} not found")
            if user.id == acc.row.owner_id:
                raise Conflict("you own this session; share it with someone else")
            if user.disabled:
                raise Conflict(f"{user.username} is disabled")
            await require_project_reader(s, acc.row, principal_for_user(user))
            live = await s.scalar(select(SessionShareRow).where(
                col(SessionShareRow.session_id) == session_id, col(SessionShareRow.invitee_id) == user.id,
                col(SessionShareRow.status).in_(("pending", "accepted"))))
            if live is not None:
                raise Conflict(f"the session is already shared with {user.username} ({live.status})")
            row = SessionShareRow(id=self.ctx.ids.new(), session_id=session_id, invitee_id=user.id,
                                  created_by=principal.username, created_at=self.ctx.clock.now())
            s.add(row)
            await self.ctx.events.emit(s, principal, "session.shared", "chat_session", session_id,
                                       acc.row.project_id, user_id=user.id, invitee_id=user.id,
                                       invitee=user.username, share_id=row.id, title=acc.row.title)
            return share_model(row, user.username)

    @staticmethod
    async def _share_for(s: AsyncSession, session_id: str, share_id: str) -> SessionShareRow:
        row = await s.get(SessionShareRow, share_id)
        if row is None or row.session_id != session_id:
            raise NotFound(f"share {share_id} not found")
        return row

    async def accept_share(self, principal: Principal, session_id: str, share_id: str) -> SessionShare:
        """The invitee accepts; from now on the session is visible to them."""
        require_user(principal)
        async with self.ctx.db.transaction() as s:
            row = await self._share_for(s, session_id, share_id)
            if row.invitee_id != principal.user_id:
                raise NotFound(f"share {share_id} not found")  # someone else's invitation does not exist for you
            if row.status != "pending":
                raise Conflict(f"this invitation is {row.status}")
            session = await s.get(ChatSessionRow, session_id)
            assert session is not None  # FK
            await require_project_reader(s, session, principal)
            row.status, row.accepted_at = "accepted", self.ctx.clock.now()
            await self.ctx.events.emit(s, principal, "session.share_accepted", "chat_session", session_id,
                                       session.project_id, user_id=session.owner_id, invitee_id=row.invitee_id,
                                       share_id=row.id, title=session.title)
            return share_model(row, principal.username)

    async def revoke_share(self, principal: Principal, session_id: str, share_id: str) -> SessionShare:
        """The owner withdraws an invitation or access; an invitee may revoke their own."""
        require_user(principal)
        async with self.ctx.db.transaction() as s:
            session = await s.get(ChatSessionRow, session_id)
            row = await self._share_for(s, session_id, share_id) if session else None
            is_owner = session is not None and session.owner_id == principal.user_id
            if session is None or row is None or not (is_owner or row.invitee_id == principal.user_id):
                raise NotFound(f"share {share_id} not found")
            if row.status == "revoked":
                raise Conflict("this invitation is already revoked")
            row.status, row.revoked_at = "revoked", self.ctx.clock.now()
            invitee = await s.get(UserRow, row.invitee_id)
            await self.ctx.events.emit(s, principal, "session.share_revoked", "chat_session", session_id,
                                       session.project_id, user_id=row.invitee_id, invitee_id=row.invitee_id,
                                       owner_id=session.owner_id, share_id=row.id, title=session.title)
            return share_model(row, invitee.username if invitee else "")
