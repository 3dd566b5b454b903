"""Projects and collaboration: /api/v1/projects/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, File, Form, Query, UploadFile

from ...schemas import (
    AccessRequest,
    AccessRequestCreate,
    AccessRequestDecision,
    Deleted,
    Document,
    DocumentReingest,
    Folder,
    FolderUpdate,
    FolderUpdateDecision,
    Member,
    MemberUpsert,
    Page,
    Project,
    ProjectCreate,
    ProjectStatus,
    ProjectUpdate,
    RequestStatus,
    ScaffoldItem,
    TeamUser,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/projects", tags=["projects"], responses=AUTHED_ERRORS)


@router.post("", status_code=201, response_model=Project, summary="Create a project")
async def create_project(body: ProjectCreate, services: ServicesDep, principal: Caller) -> Project:
    return await services.projects.create(principal, body)


@router.get("", response_model=Page[Project], summary="List projects accessible to the caller")
async def list_projects(
    services: ServicesDep,
    principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    status: ProjectStatus | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Filter by name.")] = None,
) -> Page[Project]:
    return await services.projects.list(principal, limit=limit, cursor=cursor, status=status, q=q)


@router.get("/{project_id}", response_model=Project, summary="Fetch a project")
async def get_project(project_id: str, services: ServicesDep, principal: Caller) -> Project:
    return await services.projects.get(principal, project_id)


@router.patch("/{project_id}", response_model=Project, summary="Update project metadata")
async def update_project(project_id: str, body: ProjectUpdate, services: ServicesDep, principal: Caller) -> Project:
    return await services.projects.update(principal, project_id, body)


@router.delete("/{project_id}", response_model=Deleted, summary="Delete a project")
async def delete_project(project_id: str, services: ServicesDep, principal: Caller) -> Deleted:
    return await services.projects.delete(principal, project_id)


@router.post("/{project_id}/archive", response_model=Project, summary="Archive a project")
async def archive_project(project_id: str, services: ServicesDep, principal: Caller) -> Project:
    return await services.projects.archive(principal, project_id)


# ---- members and team ------------------------------------------------------------------


@router.get("/{project_id}/members", response_model=Page[Member], summary="List project members")
async def list_members(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[Member]:
    return await services.projects.list_members(principal, project_id, limit=limit, cursor=cursor)


@router.patch("/{project_id}/members/{member_user_id}", response_model=Member,
              summary="Add or update a project member")
async def upsert_member(
    project_id: str, member_user_id: str, body: MemberUpsert, services: ServicesDep, principal: Caller
) -> Member:
    return await services.projects.upsert_member(principal, project_id, member_user_id, body.role)


@router.delete("/{project_id}/members/{member_user_id}", response_model=Deleted,
               summary="Remove a project member")
async def remove_member(project_id: str, member_user_id: str, services: ServicesDep, principal: Caller) -> Deleted:
    return await services.projects.remove_member(principal, project_id, member_user_id)


@router.get("/{project_id}/team-users", response_model=Page[TeamUser],
            summary="Team users available for membership")
async def team_users(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[TeamUser]:
    return await services.projects.team_users(principal, project_id, limit=limit, cursor=cursor)


# ---- access requests -------------------------------------------------------------------


@router.get("/{project_id}/access-requests", response_model=Page[AccessRequest],
            summary="List project access requests")
async def list_access_requests(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None, status: RequestStatus | None = None,
) -> Page[AccessRequest]:
    return await services.projects.list_access_requests(principal, project_id, limit=limit, cursor=cursor,
                                                        status=status)


@router.post("/{project_id}/access-requests", status_code=201, response_model=AccessRequest,
             summary="Ask to join a project")
async def create_access_request(
    project_id: str, services: ServicesDep, principal: Caller,
    body: Annotated[AccessRequestCreate | None, Body()] = None,
) -> AccessRequest:
    # An empty body asks for the default (viewer) role with no message.
    return await services.projects.create_access_request(principal, project_id, body or AccessRequestCreate())


@router.patch("/{project_id}/access-requests/{access_request_id}", response_model=AccessRequest,
              summary="Approve or reject an access request")
async def decide_access_request(
    project_id: str, access_request_id: str, body: AccessRequestDecision, services: ServicesDep, principal: Caller
) -> AccessRequest:
    return await services.projects.decide_access_request(principal, project_id, access_request_id, body)


# ---- scaffold, folders, folder updates -------------------------------------------------


@router.get("/{project_id}/scaffold-items", response_model=Page[ScaffoldItem],
            summary="List generated scaffold items")
async def list_scaffold_items(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[ScaffoldItem]:
    return await services.projects.list_scaffold_items(principal, project_id, limit=limit, cursor=cursor)


@router.get("/{project_id}/folders", response_model=Page[Folder], summary="List project folders")
async def list_folders(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[Folder]:
    return await services.projects.list_folders(principal, project_id, limit=limit, cursor=cursor)


@router.get("/{project_id}/folder-updates", response_model=Page[FolderUpdate],
            summary="List proposed folder updates")
async def list_folder_updates(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None, status: RequestStatus | None = None,
) -> Page[FolderUpdate]:
    return await services.projects.list_folder_updates(principal, project_id, limit=limit, cursor=cursor,
                                                       status=status)


@router.post("/{project_id}/folder-updates/{folder_update_id}/approve", response_model=FolderUpdate,
             summary="Approve a folder update (and apply it)")
async def approve_folder_update(
    project_id: str, folder_update_id: str, services: ServicesDep, principal: Caller,
    body: Annotated[FolderUpdateDecision | None, Body()] = None,
) -> FolderUpdate:
    comment = body.comment if body else ""
    return await services.projects.approve_folder_update(principal, project_id, folder_update_id, comment)


@router.post("/{project_id}/folder-updates/{folder_update_id}/reject", response_model=FolderUpdate,
             summary="Reject a folder update")
async def reject_folder_update(
    project_id: str, folder_update_id: str, services: ServicesDep, principal: Caller,
    body: Annotated[FolderUpdateDecision | None, Body()] = None,
) -> FolderUpdate:
    comment = body.comment if body else ""
    return await services.projects.reject_folder_update(principal, project_id, folder_update_id, comment)


# ---- documents -------------------------------------------------------------------------


@router.get("/{project_id}/documents", response_model=Page[Document],
            summary="List project documents")
async def list_documents(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[Document]:
    return await services.projects.list_documents(principal, project_id, limit=limit, cursor=cursor)


@router.post("/{project_id}/documents/upload", status_code=201, response_model=Document,
             summary="Upload a text document (multipart field `file`)")
async def upload_document(
    project_id: str,
    services: ServicesDep,
    principal: Caller,
    file: Annotated[UploadFile, File(description="The document.")],
    folder_path: Annotated[str | None, Form(max_length=255)] = None,
) -> Document:
    # Read one byte past the limit: enough for the service to tell "too large"
    # without holding an arbitrarily large upload in memory.
    content = await file.read(services.ctx.settings.max_upload_bytes + 1)
    return await services.projects.upload_document(
        principal, project_id, file.filename or "", content, content_type=file.content_type, folder_path=folder_path
    )


@router.post("/{project_id}/documents/reingest", response_model=Document,
             summary="Re-extract a document's text and recompute its hash")
async def reingest_document(
    project_id: str, body: DocumentReingest, services: ServicesDep, principal: Caller
) -> Document:
    return await services.projects.reingest_document(principal, project_id, body.document_id)
