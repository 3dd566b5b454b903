"""Rows → wire models for the projects domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....schemas import Project
from ....schemas.projects import ProjectRole, ProjectStatus
from ...tables import AccessRequestRow, DocumentRow, FolderUpdateRow, ProjectMemberRow, ProjectRow, table_of


def count_columns():  # noqa: ANN201
    """Correlated counts shown with every project."""
    pid = table_of(ProjectRow).c.id

    def count(table, label: str, *where):  # noqa: ANN001, ANN202
        # Correlate to projects only: the list query also joins project_members.
        return (select(func.count()).select_from(table).where(table.c.project_id == pid, *where)
                .correlate(table_of(ProjectRow)).scalar_subquery().label(label))

    return (
        count(table_of(ProjectMemberRow), "member_count"),
        count(table_of(DocumentRow), "document_count"),
        count(table_of(AccessRequestRow), "pending_access_requests", table_of(AccessRequestRow).c.status == "pending"),
        count(table_of(FolderUpdateRow), "pending_folder_updates", table_of(FolderUpdateRow).c.status == "pending"),
    )


def project_model(row: ProjectRow, my_role: str | None, counts: tuple[int, ...]) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        template=row.template,
        status=ProjectStatus(row.status),
        team=row.team,
        owner_id=row.owner_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
        my_role=ProjectRole(my_role) if my_role is not None else None,
        member_count=counts[0],
        document_count=counts[1],
        pending_access_requests=counts[2],
        pending_folder_updates=counts[3],
    )


async def project_with_counts(s: AsyncSession, row: ProjectRow, my_role: str | None) -> Project:
    await s.flush()
    counts = (await s.execute(select(*count_columns()).where(col(ProjectRow.id) == row.id))).one()
    return project_model(row, my_role, tuple(counts))
