"""Projects: create (with scaffold), list, get, update, archive, delete."""

from __future__ import annotations

from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, Invalid
from ....principal import Principal
from ....schemas import Deleted, Page, Project, ProjectCreate, ProjectUpdate
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import FolderRow, ProjectMemberRow, ProjectRow, ScaffoldItemRow
from .._common import require_user
from .access import load_project
from .convert import count_columns, project_model, project_with_counts
from .templates import TEMPLATES


class ProjectCore:
    ctx: ServiceContext

    async def _check_name_free(self, s: AsyncSession, team: str, name: str, except_id: str | None = None) -> None:
        stmt = select(col(ProjectRow.id)).where(col(ProjectRow.team) == team,
                                                col(ProjectRow.name_key) == name.casefold())
        if except_id:
            stmt = stmt.where(col(ProjectRow.id) != except_id)
        if await s.scalar(stmt):
            raise Conflict(f"a project named {name!r} already exists in team {team!r}")

    @idempotent(Project)
    async def create(self, principal: Principal, data: ProjectCreate) -> Project:
        require_user(principal)
        if principal.role == "viewer":
            raise Forbidden("viewers cannot create projects")
        if principal.user_id is None:
            raise Forbidden("projects are created by a user; act as one")
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            await self._check_name_free(s, principal.team, data.name)
            row = ProjectRow(
                id=self.ctx.ids.new(),
                name=data.name,
                name_key=data.name.casefold(),
                description=data.description,
                template=data.template.value,
                team=principal.team,
                owner_id=principal.user_id,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            await s.flush()
            s.add(ProjectMemberRow(project_id=row.id, user_id=principal.user_id, role="owner", added_at=now))
            for position, spec in enumerate(TEMPLATES[row.template]):
                s.add(ScaffoldItemRow(id=self.ctx.ids.new(), project_id=row.id, kind=spec.kind, path=spec.path,
                                      title=spec.title, description=spec.description, position=position))
                if spec.kind == "folder":
                    s.add(FolderRow(id=self.ctx.ids.new(), project_id=row.id, path=spec.path,
                                    name=spec.path.rsplit("/", 1)[-1], created_at=now))
            await self.ctx.events.emit(s, principal, "project.created", "project", row.id, row.id,
                                       name=row.name, template=row.template)
            return await project_with_counts(s, row, "owner")

    async def list(
        self,
        principal: Principal,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
        q: str | None = None,
    ) -> Page[Project]:
        require_user(principal)
        if status is not None and status not in ("active", "archived"):
            raise Invalid("status must be 'active' or 'archived'")
        mine = and_(col(ProjectMemberRow.project_id) == col(ProjectRow.id),
                    col(ProjectMemberRow.user_id) == principal.user_id)
        stmt = select(ProjectRow, col(ProjectMemberRow.role), *count_columns())
        join = stmt.outerjoin if principal.is_admin else stmt.join  # admins see every project
        stmt = join(ProjectMemberRow, mine)
        if status:
            stmt = stmt.where(col(ProjectRow.status) == status)
        if q:
            if len(q) > 120:
                raise Invalid("q is longer than 120 characters")
            escaped = q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(col(ProjectRow.name_key).like(f"%{escaped}%", escape="\\"))
        async with self.ctx.db.read() as s:
            return await paginate(
                s, stmt, [col(ProjectRow.id)], lambda r: [r[0].id],
                lambda r: project_model(r[0], r[1], tuple(r[2:])),
                limit=limit, cursor=cursor, descending=True,
            )

    async def get(self, principal: Principal, project_id: str) -> Project:
        async with self.ctx.db.read() as s:
            acc = await load_project(s, principal, project_id)
            return await project_with_counts(s, acc.project, acc.role)

    async def update(self, principal: Principal, project_id: str, data: ProjectUpdate) -> Project:
        if data.name is None and data.description is None:
            raise Invalid("nothing to update: give name and/or description")
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("editor", principal, "editing a project")
            acc.writable()
            row = acc.project
            changed: dict[str, str] = {}
            if data.name is not None and data.name != row.name:
                await self._check_name_free(s, row.team, data.name, except_id=row.id)
                changed["name"] = data.name
                row.name, row.name_key = data.name, data.name.casefold()
            if data.description is not None and data.description != row.description:
                changed["description"] = "(changed)"
                row.description = data.description
            if changed:
                row.updated_at = self.ctx.clock.now()
                await self.ctx.events.emit(s, principal, "project.updated", "project", row.id, row.id,
                                           changed=sorted(changed), name=row.name)
            return await project_with_counts(s, row, acc.role)

    async def archive(self, principal: Principal, project_id: str) -> Project:
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("owner", principal, "archiving a project")
            if acc.project.status == "archived":
                raise Conflict(f"project {acc.project.name!r} is already archived")
            now = self.ctx.clock.now()
            acc.project.status, acc.project.archived_at, acc.project.updated_at = "archived", now, now
            await self.ctx.events.emit(s, principal, "project.archived", "project", project_id, project_id,
                                       name=acc.project.name)
            return await project_with_counts(s, acc.project, acc.role)

    async def delete(self, principal: Principal, project_id: str) -> Deleted:
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("owner", principal, "deleting a project")
            # Foreign keys cascade to members, requests, folders, documents.
            await s.execute(delete(ProjectRow).where(col(ProjectRow.id) == project_id))
            await self.ctx.events.emit(s, principal, "project.deleted", "project", project_id, project_id,
                                       name=acc.project.name)
            return Deleted(id=project_id)
