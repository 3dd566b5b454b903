"""What the Backend offers for generated artifacts (by reference token)."""

from __future__ import annotations

from typing import Protocol

from ..schemas.artifacts import (
    ArtifactContent,
    ArtifactInfo,
    ArtifactRevisionCreate,
    ArtifactSource,
    LayoutCleanupRequest,
    LayoutCleanupResult,
)
from ..schemas.common import DEFAULT_LIMIT, Page


class ArtifactsAPI(Protocol):
    async def list(self, project_id: str | None = None, kind: str | None = None, limit: int = DEFAULT_LIMIT,
                   cursor: str | None = None) -> Page[ArtifactInfo]:
        """The artifacts the caller may see, newest first (an addition to the map:
        ``GET /api/v1/attachments``); ``project_id`` and ``kind`` narrow it."""
        ...

    async def download(self, reference_token: str, revision: int | None = None) -> ArtifactContent:
        """The artifact's bytes (the current revision unless ``revision`` is given)."""
        ...

    async def source(self, reference_token: str, revision: int | None = None) -> ArtifactSource:
        """The editable text source and the revision history."""
        ...

    async def save_revision(self, reference_token: str, data: ArtifactRevisionCreate) -> ArtifactSource:
        """Save an edited source as a new revision (project editors)."""
        ...

    async def layout_cleanup(self, reference_token: str, data: LayoutCleanupRequest | None = None
                             ) -> LayoutCleanupResult:
        """Tidy an HTML or markdown artifact; a change becomes a new revision."""
        ...
