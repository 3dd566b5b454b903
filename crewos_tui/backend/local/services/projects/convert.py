"""Rows → wire models for the projects domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ....schemas import Project
from ...tables import AccessRequestRow, DocumentRow, FolderUpdateRow, ProjectMemberRow, ProjectRow


def count_columns():  # noqa: ANN201
    """Correlated counts shown with every project."""
    pid = ProjectRow.__table__.c.id

    def count(table, label: str, *where):  # noqa: ANN001, ANN202
        # Correlate to projects only: the list query also joins project_members.
        return (select(func.count()).select_from(table).where(table.c.project_id == pid, *where)
                .correlate(ProjectRow.__table__).scalar_subquery().label(label))

    return (
        count(ProjectMemberRow.__table__, "member_count"),
        count(DocumentRow.__table__, "document_count"),
        count(AccessRequestRow.__table__, "pending_access_requests", AccessRequestRow.__table__.c.status == "pending"),
        count(FolderUpdateRow.__table__, "pending_folder_updates", FolderUpdateRow.__table__.c.status == "pending"),
    )


def project_model(row: ProjectRow, my_role: str | None, counts: tuple[int, int, int, int]) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        template=row.template,
        status=row.status,
        team=row.team,
        owner_id=row.owner_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
        my_role=my_role,
        member_count=counts[0],
        document_count=counts[1],
        pending_access_requests=counts[2],
        pending_folder_updates=counts[3],
    )


async def project_with_counts(s: AsyncSession, row: ProjectRow, my_role: str | None) -> Project:
    await s.flush()
    counts = (await s.execute(select(*count_columns()).where(ProjectRow.id == row.id))).one()
    return project_model(row, my_role, tuple(counts))
