"""What the Backend offers for generated artifacts (by reference token)."""

from __future__ import annotations

from typing import Protocol

from ..schemas.artifacts import (
    ArtifactContent,
    ArtifactRevisionCreate,
    ArtifactSource,
    LayoutCleanupRequest,
    LayoutCleanupResult,
)


class ArtifactsAPI(Protocol):
    async def download(self, reference_token: str, revision: int | None = None) -> ArtifactContent:
        """The artifact's bytes (the current revision unless ``revision`` is given)."""

    async def source(self, reference_token: str, revision: int | None = None) -> ArtifactSource:
        """The editable text source and the revision history."""

    async def save_revision(self, reference_token: str, data: ArtifactRevisionCreate) -> ArtifactSource:
        """Save an edited source as a new revision (project editors)."""

    async def layout_cleanup(self, reference_token: str, data: LayoutCleanupRequest | None = None
                             ) -> LayoutCleanupResult:
        """Tidy an HTML or markdown artifact; a change becomes a new revision."""
