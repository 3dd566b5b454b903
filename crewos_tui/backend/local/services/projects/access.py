"""Who may see and do what in a project: the one place for project permissions.

- Admins see every project; other users see the projects they are members of.
  An invisible project is 404, never 403, so its existence does not leak.
- viewer < editor < owner. Editors change content; owners (and admins) manage
  members, decide access requests, archive and delete.
- An archived project is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, NotFound
from ....principal import Principal
from ...tables import ProjectMemberRow, ProjectRow
from .._common import require_user

RANK = {"viewer": 1, "editor": 2, "owner": 3}


@dataclass
class ProjectAccess:
    project: ProjectRow
    role: str | None  # the caller's project role; None for a non-member admin

    def at_least(self, needed: str, principal: Principal, action: str) -> None:
        if principal.is_admin:
            return
        if RANK.get(self.role or "", 0) < RANK[needed]:
            raise Forbidden(f"{action} needs the project {needed} role (you are {self.role or 'not a member'})")

    def writable(self) -> None:
        if self.project.status == "archived":
            raise Conflict(f"project {self.project.name!r} is archived and read-only")


async def member_role(s: AsyncSession, project_id: str, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    return await s.scalar(
        select(col(ProjectMemberRow.role)).where(
            col(ProjectMemberRow.project_id) == project_id, col(ProjectMemberRow.user_id) == user_id
        )
    )


async def load_project(s: AsyncSession, principal: Principal, project_id: str) -> ProjectAccess:
    """The project as the caller may see it, or NotFound."""
    require_user(principal)
    row = await s.get(ProjectRow, project_id)
    if row is None:
        raise NotFound(f"project {project_id} not found")
    role = await member_role(s, project_id, principal.user_id)
    if role is None and not principal.is_admin:
        raise NotFound(f"project {project_id} not found")
    return ProjectAccess(row, role)


async def may_read(s: AsyncSession, principal: Principal, project_id: str) -> bool:
    """Whether the principal may read the project: the rule of `load_project`, as yes or no."""
    try:
        await load_project(s, principal, project_id)
    except NotFound:
        return False
    return True



def member_clause(project_id: Any, user_id: Any) -> ColumnElement[bool]:
    """SQL: the user is a member of the project."""
    return exists().where(col(ProjectMemberRow.project_id) == project_id, col(ProjectMemberRow.user_id) == user_id)


def may_read_clause(project_id: Any, user_id: Any, role: Any) -> ColumnElement[bool]:
    """The rule of `load_project` as SQL over user rows: an admin, or a member of the project."""
    return or_(role == "admin", member_clause(project_id, user_id))
