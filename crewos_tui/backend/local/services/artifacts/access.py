"""Who may read and change an artifact: it follows the artifact's project (viewers
read, editors save revisions, archived projects are read-only); an artifact without
a project belongs to whoever it was made for (and admins). Anything else is 404."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import NotFound
from ....principal import Principal
from ...tables import ArtifactRow
from .._common import require_user
from ..projects.access import RANK, load_project


async def load_artifact(s: AsyncSession, principal: Principal, token: str, *, write: bool = False
                        ) -> tuple[ArtifactRow, bool]:
    """The artifact and whether the caller may edit it; ``write`` requires that."""
    require_user(principal)
    row = await s.scalar(select(ArtifactRow).where(col(ArtifactRow.reference_token) == token)) if token else None
    if row is None:
        raise NotFound("artifact not found (the reference token is unknown or no longer valid)")
    if row.project_id is None:
        if not (principal.is_admin or (principal.user_id and principal.user_id == row.created_by_id)):
            raise NotFound("artifact not found (the reference token is unknown or no longer valid)")
        return row, True
    try:
        acc = await load_project(s, principal, row.project_id)
    except NotFound:
        raise NotFound("artifact not found (the reference token is unknown or no longer valid)") from None
    editable = (principal.is_admin or RANK.get(acc.role or "", 0) >= RANK["editor"]) \
        and acc.project.status != "archived"
    if write:
        acc.at_least("editor", principal, "editing artifacts")
        acc.writable()
    return row, editable
