"""Members, team users and access requests."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, Invalid, NotFound
from ....principal import Principal
from ....schemas import AccessRequest, AccessRequestCreate, AccessRequestDecision, Deleted, Member, Page, TeamUser
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.projects import ProjectRole, RequestStatus
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import AccessRequestRow, ProjectMemberRow, ProjectRow, UserRow
from .._common import require_user
from .access import ProjectAccess, load_project, member_role


def member_model(m: ProjectMemberRow, u: UserRow) -> Member:
    return Member(user_id=u.id, username=u.username, team=u.team, role=ProjectRole(m.role), added_at=m.added_at)


def request_model(r: AccessRequestRow, username: str) -> AccessRequest:
    return AccessRequest(
        id=r.id, project_id=r.project_id, user_id=r.user_id, username=username, role=ProjectRole(r.role),
        message=r.message, status=RequestStatus(r.status), created_at=r.created_at, decided_by=r.decided_by,
        decided_at=r.decided_at, comment=r.comment,
    )


class ProjectMembers:
    ctx: ServiceContext

    async def list_members(
        self, principal: Principal, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Member]:
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            stmt = (select(ProjectMemberRow, UserRow).join(UserRow, col(UserRow.id) == col(ProjectMemberRow.user_id))
                    .where(col(ProjectMemberRow.project_id) == project_id))
            return await paginate(s, stmt, [col(ProjectMemberRow.user_id)], lambda r: [r[0].user_id],
                                  lambda r: member_model(r[0], r[1]), limit=limit, cursor=cursor)

    async def _owner_count(self, s: AsyncSession, project_id: str) -> int:
        return int(await s.scalar(select(func.count()).where(
            col(ProjectMemberRow.project_id) == project_id, col(ProjectMemberRow.role) == "owner")) or 0)

    async def _set_member(
        self, s: AsyncSession, principal: Principal, acc: ProjectAccess, user: UserRow, role: str
    ) -> Member:
        project = acc.project
        row = await s.get(ProjectMemberRow, (project.id, user.id))
        if row is None:
            row = ProjectMemberRow(project_id=project.id, user_id=user.id, role=role, added_at=self.ctx.clock.now())
            s.add(row)
            await self.ctx.events.emit(s, principal, "project.member_added", "project_member", user.id, project.id,
                                       user_id=user.id, username=user.username, role=role, project_name=project.name)
        elif row.role != role:
            if row.role == "owner" and role != "owner" and await self._owner_count(s, project.id) <= 1:
                raise Conflict(f"{user.username} is the last owner of {project.name!r}; make someone else owner first")
            old, row.role = row.role, role
            await self.ctx.events.emit(s, principal, "project.member_role_changed", "project_member", user.id,
                                       project.id, user_id=user.id, username=user.username, role=role, old_role=old,
                                       project_name=project.name)
        return member_model(row, user)

    async def upsert_member(self, principal: Principal, project_id: str, user_id: str, role: ProjectRole) -> Member:
        role = ProjectRole(role)
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("owner", principal, "managing members")
            acc.writable()
            user = await s.get(UserRow, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            if user.team != acc.project.team and not principal.is_admin:
                raise Forbidden(f"{user.username} is not in team {acc.project.team!r}; an admin can add them")
            if user.disabled:
                raise Conflict(f"{user.username} is disabled")
            return await self._set_member(s, principal, acc, user, role.value)

    async def remove_member(self, principal: Principal, project_id: str, user_id: str) -> Deleted:
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            if user_id != principal.user_id:  # anyone may leave; removing others is for owners
                acc.at_least("owner", principal, "removing members")
            row = await s.get(ProjectMemberRow, (project_id, user_id))
            if row is None:
                raise NotFound(f"user {user_id} is not a member of this project")
            if row.role == "owner" and await self._owner_count(s, project_id) <= 1:
                raise Conflict("the last owner cannot be removed; make someone else owner first")
            await s.delete(row)
            await self.ctx.events.emit(s, principal, "project.member_removed", "project_member", user_id, project_id,
                                       user_id=user_id, project_name=acc.project.name)
            return Deleted(id=user_id)

    async def team_users(
        self, principal: Principal, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[TeamUser]:
        async with self.ctx.db.read() as s:
            acc = await load_project(s, principal, project_id)
            stmt = (
                select(UserRow, col(ProjectMemberRow.role))
                .outerjoin(ProjectMemberRow, and_(col(ProjectMemberRow.user_id) == col(UserRow.id),
                                                  col(ProjectMemberRow.project_id) == project_id))
                .where(col(UserRow.team) == acc.project.team, col(UserRow.disabled).is_(False))
            )
            return await paginate(
                s, stmt, [col(UserRow.id)], lambda r: [r[0].id],
                lambda r: TeamUser(id=r[0].id, username=r[0].username, team=r[0].team, role=r[0].role,
                                   is_member=r[1] is not None, project_role=r[1]),
                limit=limit, cursor=cursor,
            )

    # ---- access requests -------------------------------------------------------------

    async def _requestable(self, s: AsyncSession, principal: Principal, project_id: str) -> ProjectRow:
        """A project the caller may ask to join: visible to them, or in their team."""
        require_user(principal)
        row = await s.get(ProjectRow, project_id)
        if row is None or (row.team != principal.team and not principal.is_admin
                           and await member_role(s, project_id, principal.user_id) is None):
            raise NotFound(f"project {project_id} not found")
        return row

    async def list_access_requests(
        self,
        principal: Principal,
        project_id: str,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
    ) -> Page[AccessRequest]:
        if status is not None and status not in ("pending", "approved", "rejected"):
            raise Invalid("status must be pending, approved or rejected")
        async with self.ctx.db.read() as s:
            project = await self._requestable(s, principal, project_id)
            role = await member_role(s, project.id, principal.user_id)
            stmt = (select(AccessRequestRow, col(UserRow.username))
                    .join(UserRow, col(UserRow.id) == col(AccessRequestRow.user_id))
                    .where(col(AccessRequestRow.project_id) == project_id))
            if not (principal.is_admin or role == "owner"):
                stmt = stmt.where(col(AccessRequestRow.user_id) == principal.user_id)  # one's own requests only
            if status:
                stmt = stmt.where(col(AccessRequestRow.status) == status)
            return await paginate(s, stmt, [col(AccessRequestRow.id)], lambda r: [r[0].id],
                                  lambda r: request_model(r[0], r[1]), limit=limit, cursor=cursor, descending=True)

    @idempotent(AccessRequest)
    async def create_access_request(
        self, principal: Principal, project_id: str, data: AccessRequestCreate
    ) -> AccessRequest:
        if principal.user_id is None:
            raise Forbidden("access requests are made by a user")
        async with self.ctx.db.transaction() as s:
            project = await self._requestable(s, principal, project_id)
            if project.status == "archived":
                raise Conflict(f"project {project.name!r} is archived")
            if await member_role(s, project_id, principal.user_id):
                raise Conflict(f"you are already a member of {project.name!r}")
            if await s.scalar(select(col(AccessRequestRow.id)).where(
                    col(AccessRequestRow.project_id) == project_id, col(AccessRequestRow.user_id) == principal.user_id,
                    col(AccessRequestRow.status) == "pending")):
                raise Conflict(f"you already have a pending access request for {project.name!r}")
            row = AccessRequestRow(id=self.ctx.ids.new(), project_id=project_id, user_id=principal.user_id,
                                   role=data.role.value, message=data.message, created_at=self.ctx.clock.now())
            s.add(row)
            await self.ctx.events.emit(s, principal, "project.access_requested", "access_request", row.id,
                                       project_id, role=row.role, project_name=project.name)
            return request_model(row, principal.username)

    async def decide_access_request(
        self, principal: Principal, project_id: str, access_request_id: str, data: AccessRequestDecision
    ) -> AccessRequest:
        if data.status.value not in ("approved", "rejected"):
            raise Invalid("status must be 'approved' or 'rejected'")
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("owner", principal, "deciding access requests")
            row = await s.get(AccessRequestRow, access_request_id)
            if row is None or row.project_id != project_id:
                raise NotFound(f"access request {access_request_id} not found")
            if row.status != "pending":
                raise Conflict(f"access request is already {row.status}")
            user = await s.get(UserRow, row.user_id)
            assert user is not None  # FK
            row.status = data.status.value
            row.decided_by = principal.username
            row.decided_at = self.ctx.clock.now()
            row.comment = data.comment
            if data.status.value == "approved":
                acc.writable()
                row.role = (data.role or ProjectRole(row.role)).value
                await self._set_member(s, principal, acc, user, row.role)
            await self.ctx.events.emit(s, principal, f"project.access_{row.status}", "access_request", row.id,
                                       project_id, user_id=user.id, username=user.username, role=row.role,
                                       project_name=acc.project.name)
            return request_model(row, user.username)
