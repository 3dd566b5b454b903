"""What the Backend offers for projects and collaboration."""

from __future__ import annotations

from typing import Protocol

from ..schemas import (
    AccessRequest,
    AccessRequestCreate,
    AccessRequestDecision,
    Deleted,
    Document,
    Folder,
    FolderUpdate,
    Member,
    Page,
    Project,
    ProjectCreate,
    ProjectUpdate,
    ScaffoldItem,
    TeamUser,
)
from ..schemas.common import DEFAULT_LIMIT
from ..schemas.projects import ProjectRole


class ProjectsAPI(Protocol):
    async def create(self, data: ProjectCreate) -> Project:
        """Create a project; the caller becomes its owner; scaffold from the template."""
        ...

    async def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
        q: str | None = None,
    ) -> Page[Project]:
        """Projects the caller can see, newest first; ``q`` filters by name."""
        ...

    async def get(self, project_id: str) -> Project:
        """One project with its status counts."""
        ...

    async def update(self, project_id: str, data: ProjectUpdate) -> Project:
        """Change name or description (editor or owner)."""
        ...

    async def delete(self, project_id: str) -> Deleted:
        """Delete a project and everything in it (owner or admin)."""
        ...

    async def archive(self, project_id: str) -> Project:
        """Archive a project (owner or admin); archived projects are read-only."""
        ...

    async def list_members(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Member]:
        """Members of a project."""
        ...

    async def upsert_member(self, project_id: str, user_id: str, role: ProjectRole) -> Member:
        """Add a member or change a member's role (owner or admin)."""
        ...

    async def remove_member(self, project_id: str, user_id: str) -> Deleted:
        """Remove a member (owner or admin); the last owner cannot be removed."""
        ...

    async def team_users(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[TeamUser]:
        """Users of the project's team, with whether and how they are members."""
        ...

    async def list_access_requests(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[AccessRequest]:
        """Access requests of a project (managers see all; others their own)."""
        ...

    async def create_access_request(self, project_id: str, data: AccessRequestCreate) -> AccessRequest:
        """Ask to join a project of one's team."""
        ...

    async def decide_access_request(
        self, project_id: str, access_request_id: str, data: AccessRequestDecision
    ) -> AccessRequest:
        """Approve (which adds the member) or reject a pending access request."""
        ...

    async def list_scaffold_items(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ScaffoldItem]:
        """The items generated from the project's template."""
        ...

    async def list_folders(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Folder]:
        """The project's folders, by path."""
        ...

    async def list_folder_updates(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[FolderUpdate]:
        """Proposed folder changes."""
        ...

    async def approve_folder_update(self, project_id: str, folder_update_id: str, comment: str = "") -> FolderUpdate:
        """Approve a proposed folder change and apply it."""
        ...

    async def reject_folder_update(self, project_id: str, folder_update_id: str, comment: str = "") -> FolderUpdate:
        """Reject a proposed folder change."""
        ...

    async def list_documents(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Document]:
        """The project's documents, newest first."""
        ...

    async def upload_document(
        self,
        project_id: str,
        filename: str,
        content: bytes,
        content_type: str | None = None,
        folder_path: str | None = None,
    ) -> Document:
        """Upload a text document (size-limited); its text is extracted and hashed."""
        ...

    async def reingest_document(self, project_id: str, document_id: str) -> Document:
        """Re-extract a document's text and recompute its content hash."""
        ...
