"""Projects and collaboration over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from .http import API, as_model, as_page, gone, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteProjects:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _p(project_id: str, *rest: str) -> str:
        return "/".join([f"{API}/projects", seg(project_id), *rest])

    async def create(self, data: ProjectCreate) -> Project:
        payload = await self._b.create(f"{API}/projects", json=data.model_dump(mode="json"))
        return as_model(Project, payload)

    async def list(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None, q: str | None = None
    ) -> Page[Project]:
        payload = await self._b.request("GET", f"{API}/projects", params=paging(limit, cursor, status=status, q=q))
        return as_page(Project, payload)

    async def get(self, project_id: str) -> Project:
        return as_model(Project, await self._b.request("GET", self._p(project_id)))

    async def update(self, project_id: str, data: ProjectUpdate) -> Project:
        payload = await self._b.request("PATCH", self._p(project_id), json=data.model_dump(mode="json",
                                                                                           exclude_unset=True))
        return as_model(Project, payload)

    async def delete(self, project_id: str) -> Deleted:
        return as_model(Deleted, await self._b.request("DELETE", self._p(project_id), gone=gone(project_id)))

    async def archive(self, project_id: str) -> Project:
        return as_model(Project, await self._b.request("POST", self._p(project_id, "archive")))

    async def list_members(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Member]:
        payload = await self._b.request("GET", self._p(project_id, "members"), params=paging(limit, cursor))
        return as_page(Member, payload)

    async def upsert_member(self, project_id: str, user_id: str, role: ProjectRole) -> Member:
        payload = await self._b.request("PATCH", self._p(project_id, "members", seg(user_id)),
                                        json={"role": str(role)})
        return as_model(Member, payload)

    async def remove_member(self, project_id: str, user_id: str) -> Deleted:
        payload = await self._b.request("DELETE", self._p(project_id, "members", seg(user_id)), gone=gone(user_id))
        return as_model(Deleted, payload)

    async def team_users(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[TeamUser]:
        payload = await self._b.request("GET", self._p(project_id, "team-users"), params=paging(limit, cursor))
        return as_page(TeamUser, payload)

    async def list_access_requests(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[AccessRequest]:
        payload = await self._b.request("GET", self._p(project_id, "access-requests"),
                                        params=paging(limit, cursor, status=status))
        return as_page(AccessRequest, payload)

    async def create_access_request(self, project_id: str, data: AccessRequestCreate) -> AccessRequest:
        payload = await self._b.create(self._p(project_id, "access-requests"),
                                       json=data.model_dump(mode="json"))
        return as_model(AccessRequest, payload)

    async def decide_access_request(
        self, project_id: str, access_request_id: str, data: AccessRequestDecision
    ) -> AccessRequest:
        payload = await self._b.request("PATCH", self._p(project_id, "access-requests", seg(access_request_id)),
                                        json=data.model_dump(mode="json", exclude_none=True))
        return as_model(AccessRequest, payload)

    async def list_scaffold_items(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ScaffoldItem]:
        payload = await self._b.request("GET", self._p(project_id, "scaffold-items"), params=paging(limit, cursor))
        return as_page(ScaffoldItem, payload)

    async def list_folders(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Folder]:
        payload = await self._b.request("GET", self._p(project_id, "folders"), params=paging(limit, cursor))
        return as_page(Folder, payload)

    async def list_folder_updates(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[FolderUpdate]:
        payload = await self._b.request("GET", self._p(project_id, "folder-updates"),
                                        params=paging(limit, cursor, status=status))
        return as_page(FolderUpdate, payload)

    async def approve_folder_update(self, project_id: str, folder_update_id: str, comment: str = "") -> FolderUpdate:
        path = self._p(project_id, "folder-updates", seg(folder_update_id), "approve")
        payload = await self._b.request("POST", path, json={"comment": comment})
        return as_model(FolderUpdate, payload)

    async def reject_folder_update(self, project_id: str, folder_update_id: str, comment: str = "") -> FolderUpdate:
        path = self._p(project_id, "folder-updates", seg(folder_update_id), "reject")
        payload = await self._b.request("POST", path, json={"comment": comment})
        return as_model(FolderUpdate, payload)

    async def list_documents(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Document]:
        payload = await self._b.request("GET", self._p(project_id, "documents"), params=paging(limit, cursor))
        return as_page(Document, payload)

    async def upload_document(
        self,
        project_id: str,
        filename: str,
        content: bytes,
        content_type: str | None = None,
        folder_path: str | None = None,
    ) -> Document:
        # Without a content type httpx guesses one from the file name.
        part = (filename, content, content_type) if content_type else (filename, content)
        payload = await self._b.create(self._p(project_id, "documents", "upload"), files={"file": part},
                                       data={"folder_path": folder_path} if folder_path else None)
        return as_model(Document, payload)

    async def reingest_document(self, project_id: str, document_id: str) -> Document:
        payload = await self._b.request("POST", self._p(project_id, "documents", "reingest"),
                                        json={"document_id": document_id})
        return as_model(Document, payload)
