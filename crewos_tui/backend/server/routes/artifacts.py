"""Generated artifacts: /api/v1/attachments/{reference_token}/... (the map's four), and
``GET /api/v1/attachments``, a list of the caller's visible artifacts that the map lacks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response

from ...schemas.artifacts import (
    ArtifactInfo,
    ArtifactRevisionCreate,
    ArtifactSource,
    LayoutCleanupRequest,
    LayoutCleanupResult,
)
from ...schemas.common import MAX_SQL_INT, Page
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery, file_download
from .knowledge import file_response

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/attachments", tags=["artifacts"], responses=AUTHED_ERRORS)
Token = Annotated[str, Path(min_length=1, max_length=128, description="The artifact's reference token.")]
RevisionQuery = Annotated[int | None, Query(ge=1, le=MAX_SQL_INT,
                                            description="A revision number (default: the current one).")]


@router.get("", response_model=Page[ArtifactInfo],
            summary="List the generated artifacts the caller can see (an addition to the CrewOS map)")
async def list_artifacts(
    services: ServicesDep,
    principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    project_id: Annotated[str | None, Query(max_length=64, description="Only this project's.")] = None,
    kind: Annotated[str | None, Query(max_length=40, description="project_update, report, html, file.")] = None,
) -> Page[ArtifactInfo]:
    return await services.artifacts.list(principal, project_id=project_id, kind=kind, limit=limit, cursor=cursor)


@router.get("/{reference_token}/download", response_class=Response,
            responses=file_download("The artifact's bytes"),
            summary="Download a generated artifact by reference token")
async def download(reference_token: Token, services: ServicesDep, principal: Caller,
                   revision: RevisionQuery = None) -> Response:
    art = await services.artifacts.download(principal, reference_token, revision=revision)
    response = file_response(art.content, art.content_type, art.filename)
    response.headers["X-Artifact-Revision"] = str(art.revision)
    return response


@router.get("/{reference_token}/source", response_model=ArtifactSource,
            summary="Fetch editable HTML artifact source")
async def source(reference_token: Token, services: ServicesDep, principal: Caller,
                 revision: RevisionQuery = None) -> ArtifactSource:
    return await services.artifacts.source(principal, reference_token, revision=revision)


@router.post("/{reference_token}/revisions", status_code=201, response_model=ArtifactSource,
             summary="Save a revised HTML artifact source")
async def save_revision(reference_token: Token, body: ArtifactRevisionCreate, services: ServicesDep,
                        principal: Caller) -> ArtifactSource:
    return await services.artifacts.save_revision(principal, reference_token, body)


@router.post("/{reference_token}/layout-cleanup", response_model=LayoutCleanupResult,
             summary="Request layout cleanup for an HTML artifact")
async def layout_cleanup(reference_token: Token, services: ServicesDep, principal: Caller,
                         body: Annotated[LayoutCleanupRequest | None, Body()] = None) -> LayoutCleanupResult:
    return await services.artifacts.layout_cleanup(principal, reference_token, body)
