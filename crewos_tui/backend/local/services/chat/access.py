"""Who may see and change a chat session: the one place for session permissions.

- A session is visible to its owner and to users whose share invitation was
  accepted; to anyone else (admins included: chats are private) it is 404.
- Only the owner changes metadata, closes, archives, shares and chats in it;
  an invitee reads it, gives feedback, and may leave (revoke their own share).
- A session bound to a project is shared only with a user who may read that project,
  and an invitation is accepted only while they still may (`shares.py`). An invitee who
  can no longer read the project no longer sees the session (404, not listed, no mentions).
- An archived session is read-only; a closed one takes no new messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, NotFound
from ....principal import Principal
from ...tables import ChatSessionRow, SessionShareRow
from .._common import require_user
from ..projects.access import may_read


@dataclass
class SessionAccess:
    row: ChatSessionRow
    access: str  # owner | shared
    share_id: str | None = None

    @property
    def is_owner(self) -> bool:
        return self.access == "owner"

    def owner_only(self, action: str) -> None:
        if not self.is_owner:
            raise Forbidden(f"{action} is for the session's owner; it was shared with you to read")

    def not_archived(self) -> None:
        if self.row.status == "archived":
            raise Conflict(f"session {self.row.title or self.row.id!r} is archived and read-only")

    def accepts_messages(self) -> None:
        self.not_archived()
        if self.row.status != "active":
            raise Conflict(f"session {self.row.title or self.row.id!r} is {self.row.status}; start a new session")


async def accepted_share(s: AsyncSession, session_id: str, user_id: str | None) -> SessionShareRow | None:
    if user_id is None:
        return None
    return await s.scalar(select(SessionShareRow).where(
        col(SessionShareRow.session_id) == session_id, col(SessionShareRow.invitee_id) == user_id,
        col(SessionShareRow.status) == "accepted"))


async def load_session(s: AsyncSession, principal: Principal, session_id: str) -> SessionAccess:
    """The session as the caller may see it, or NotFound."""
    require_user(principal)
    row = await s.get(ChatSessionRow, session_id)
    if row is None:
        raise NotFound(f"session {session_id} not found")
    if principal.user_id is not None and row.owner_id == principal.user_id:
        return SessionAccess(row, "owner")
    share = await accepted_share(s, session_id, principal.user_id)
    if share is None or (row.project_id is not None and not await may_read(s, principal, row.project_id)):
        raise NotFound(f"session {session_id} not found")
    return SessionAccess(row, "shared", share.id)
