"""User accounts for admins: list with filters, update, unlock (end a sign-in throttle)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas import Page
from ....schemas.admin import AdminUser, UserUpdate
from ....schemas.auth import Role
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...pagination import paginate
from ...tables import RefreshTokenRow, UserRow
from .._common import require_admin

NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9_.:/*@-]{1,120}$")
MAX_GRANTS = 100
TEAM_CHARS = 64


def admin_user(row: UserRow) -> AdminUser:
    return AdminUser.model_validate(row)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def check_patterns(values: list[str], field: str, limit: int = MAX_GRANTS) -> list[str]:
    """Namespace names/patterns: trimmed, unique, in order; 422 naming the field otherwise."""
    if not isinstance(values, list):
        raise Invalid(f"{field} must be a list of namespace names")
    out: list[str] = []
    for value in values:
        value = value.strip() if isinstance(value, str) else value
        if not isinstance(value, str) or not NAMESPACE_PATTERN.match(value):
            raise Invalid(f"{field}: {value!r} is not a namespace name or pattern "
                          "(1-120 of letters, digits and _ . : / * @ -)")
        if value not in out:
            out.append(value)
    if len(out) > limit:
        raise Invalid(f"{field}: at most {limit} entries")
    return out


def check_team(team: str, field: str = "team") -> str:
    team = team.strip() if isinstance(team, str) else ""
    if not 1 <= len(team) <= TEAM_CHARS:
        raise Invalid(f"{field} must be 1 to {TEAM_CHARS} characters")
    return team


async def user_or_404(s: AsyncSession, user_id: str) -> UserRow:
    row = await s.get(UserRow, user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return row


class AdminUsers:
    ctx: ServiceContext

    async def list_users(
        self,
        principal: Principal,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        q: str | None = None,
        role: str | None = None,
        team: str | None = None,
        disabled: bool | None = None,
        locked: bool | None = None,
    ) -> Page[AdminUser]:
        """Users in creation order; ``q`` matches part of the username."""
        require_admin(principal)
        stmt = select(UserRow)
        if q is not None:
            if not q.strip() or len(q) > 64:
                raise Invalid("q must be 1 to 64 characters")
            escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(func.lower(col(UserRow.username)).like(f"%{escaped}%", escape="\\"))
        if role is not None:
            if role not in Role.__members__:
                raise Invalid(f"role must be one of: {', '.join(Role.__members__)}")
            stmt = stmt.where(col(UserRow.role) == role)
        if team is not None:
            stmt = stmt.where(col(UserRow.team) == check_team(team))
        if disabled is not None:
            stmt = stmt.where(col(UserRow.disabled) == disabled)
        if locked is not None:
            now = self.ctx.clock.now()
            is_locked = col(UserRow.locked_until).is_not(None) & (col(UserRow.locked_until) > now)
            stmt = stmt.where(is_locked if locked else ~is_locked)
        async with self.ctx.db.read() as s:
            return await paginate(s, stmt, [col(UserRow.id)], lambda r: [r.id], admin_user, limit=limit, cursor=cursor)

    async def update_user(self, principal: Principal, user_id: str, data: UserUpdate) -> AdminUser:
        """Change role, team, disabled and/or namespace grants; disabling ends the user's sessions."""
        require_admin(principal)
        wanted = {k: getattr(data, k) for k in ("role", "team", "disabled", "namespace_grants")
                  if getattr(data, k) is not None}
        if not wanted:
            raise Invalid("nothing to update: give role, team, disabled and/or namespace_grants")
        if "role" in wanted:
            try:
                wanted["role"] = Role(wanted["role"]).value
            except ValueError:
                raise Invalid(f"role must be one of: {', '.join(Role.__members__)}") from None
        if "team" in wanted:
            wanted["team"] = check_team(wanted["team"])
        if "namespace_grants" in wanted:
            wanted["namespace_grants"] = check_patterns(wanted["namespace_grants"], "namespace_grants")
        async with self.ctx.db.transaction() as s:
            row = await user_or_404(s, user_id)
            changes = {k: v for k, v in wanted.items() if getattr(row, k) != v}
            if not changes:
                return admin_user(row)
            stays_admin = changes.get("role", row.role) == "admin" and not changes.get("disabled", row.disabled)
            if row.role == "admin" and not row.disabled and not stays_admin:
                others = await s.scalar(select(func.count()).select_from(UserRow).where(
                    col(UserRow.role) == "admin", col(UserRow.disabled).is_(False), col(UserRow.id) != row.id))
                if not others:
                    raise Conflict(f"{row.username!r} is the last active admin; make someone else admin first")
            now = self.ctx.clock.now()
            previous = {k: getattr(row, k) for k in changes}
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = now
            if changes.get("disabled"):
                await s.execute(update(RefreshTokenRow).where(
                    col(RefreshTokenRow.user_id) == row.id, col(RefreshTokenRow.revoked_at).is_(None))
                    .values(revoked_at=now))
            await self.ctx.events.emit(s, principal, "user.updated", "user", row.id, user_id=row.id,
                                       username=row.username, changed=sorted(changes), before=previous,
                                       after=changes)
            return admin_user(row)

    async def unlock_user(self, principal: Principal, user_id: str) -> AdminUser:
        """End a sign-in throttle after wrong passwords (and reset the failure count)."""
        require_admin(principal)
        async with self.ctx.db.transaction() as s:
            row = await user_or_404(s, user_id)
            now = self.ctx.clock.now()
            locked_until = _aware(row.locked_until)
            if not (locked_until and locked_until > now) and not row.failed_logins:
                raise Conflict(f"user {row.username!r} is not locked")
            row.locked_until, row.failed_logins, row.updated_at = None, 0, now
            await self.ctx.events.emit(s, principal, "user.unlocked", "user", row.id, user_id=row.id,
                                       username=row.username)
            return admin_user(row)
