"""Notification preferences: which kinds reach a user, which projects are muted,
and whether the TUI shows a toast. The producer reads the same row, so a kind
switched off is never produced (not merely hidden)."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid
from ....principal import Principal
from ....schemas import KindPreference, NotificationPreferences, NotificationPreferencesUpdate
from ...context import ServiceContext
from ...tables import NotificationPreferenceRow, ProjectMemberRow, ProjectRow
from .inbox import owner_of
from .rules import KINDS


def preferences_model(row: NotificationPreferenceRow | None) -> NotificationPreferences:
    muted = set(row.muted_kinds) if row else set()
    return NotificationPreferences(
        kinds=[KindPreference(kind=k, label=label, in_app=k not in muted) for k, label in KINDS.items()],
        muted_projects=list(row.muted_projects) if row else [],
        toasts=row.toasts if row else True,
        updated_at=row.updated_at if row else None,
    )


class NotificationSettings:
    ctx: ServiceContext

    async def get_preferences(self, principal: Principal) -> NotificationPreferences:
        uid = owner_of(principal)
        async with self.ctx.db.read() as s:
            return preferences_model(await s.get(NotificationPreferenceRow, uid))

    async def update_preferences(
        self, principal: Principal, data: NotificationPreferencesUpdate
    ) -> NotificationPreferences:
        uid = owner_of(principal)
        if data.kinds is not None:
            unknown = sorted(k for k in data.kinds if k not in KINDS)
            if unknown:
                raise Invalid(f"unknown notification kind(s): {', '.join(unknown)} "
                              "(GET /api/v1/notifications/preferences lists them)")
        async with self.ctx.db.transaction() as s:
            row = await s.get(NotificationPreferenceRow, uid)
            if row is None:
                row = NotificationPreferenceRow(user_id=uid, muted_kinds=[], muted_projects=[], toasts=True,
                                                updated_at=self.ctx.clock.now())
                s.add(row)
            changed: list[str] = []
            if data.kinds is not None:
                muted = set(row.muted_kinds)
                muted |= {k for k, on in data.kinds.items() if not on}
                muted -= {k for k, on in data.kinds.items() if on}
                row.muted_kinds = [k for k in KINDS if k in muted]  # stable order
                changed.append("kinds")
            if data.muted_projects is not None:
                wanted = list(dict.fromkeys(p.strip() for p in data.muted_projects))
                # Ids muted before stay accepted (the project may be gone by now); new
                # ones must be projects the caller can see.
                await self._check_projects(s, principal, [p for p in wanted if p not in row.muted_projects])
                row.muted_projects = wanted
                changed.append("muted_projects")
            if data.toasts is not None:
                row.toasts = data.toasts
                changed.append("toasts")
            row.updated_at = self.ctx.clock.now()
            await self.ctx.events.emit(s, principal, "notification.preferences_updated", "notification_preferences",
                                       uid, user_id=uid, changed=changed)
            return preferences_model(row)

    async def _check_projects(self, s: AsyncSession, principal: Principal, project_ids: list[str]) -> None:
        if not project_ids:
            return
        stmt = select(col(ProjectRow.id)).where(col(ProjectRow.id).in_(project_ids))
        if not principal.is_admin:
            stmt = stmt.join(ProjectMemberRow, and_(col(ProjectMemberRow.project_id) == col(ProjectRow.id),
                                                    col(ProjectMemberRow.user_id) == principal.user_id))
        visible = set(await s.scalars(stmt))
        missing = [p for p in project_ids if p not in visible]
        if missing:
            raise Invalid(f"cannot mute project {missing[0]}: no such project among yours")
