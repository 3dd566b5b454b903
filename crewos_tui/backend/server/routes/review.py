"""The review queue: /api/v1/review/queue/..."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from ...schemas import (
    Page,
    ReviewBatch,
    ReviewBatchResult,
    ReviewItem,
    ReviewItemCreate,
    ReviewItemDecision,
    ReviewOrder,
    ReviewStats,
    ReviewTranscript,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery, file_download

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/review/queue", tags=["review"], responses=AUTHED_ERRORS)
DecisionBody = Annotated[ReviewItemDecision | None, Body()]
StateQuery = Annotated[str | None, Query(description="pending, approved, rejected, quarantined, or open "
                                                     "(pending and quarantined).")]


@router.get("", response_model=Page[ReviewItem], summary="List review queue items")
async def list_items(
    services: ServicesDep,
    principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    state: StateQuery = None,
    project_id: str | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    submitter_id: str | None = None,
    requested_of_me: bool = False,
    q: Annotated[str | None, Query(max_length=200, description="Filter by title.")] = None,
    order: ReviewOrder = ReviewOrder.newest,
) -> Page[ReviewItem]:
    return await services.review.list(principal, limit=limit, cursor=cursor, state=state, project_id=project_id,
                                      kind=kind, submitter_id=submitter_id, requested_of_me=requested_of_me, q=q,
                                      order=order.value)


@router.post("", status_code=201, response_model=ReviewItem,
             summary="Submit an item for review")
async def submit_item(body: ReviewItemCreate, services: ServicesDep, principal: Caller) -> ReviewItem:
    return await services.review.submit(principal, body)


@router.get("/stats", response_model=ReviewStats, summary="Read review queue stats")
async def stats(services: ServicesDep, principal: Caller, project_id: str | None = None) -> ReviewStats:
    return await services.review.stats(principal, project_id=project_id)


@router.post("/batch", response_model=ReviewBatchResult,
             summary="Apply batch review decisions (all or nothing)")
async def decide_batch(body: ReviewBatch, services: ServicesDep, principal: Caller) -> ReviewBatchResult:
    return await services.review.decide_batch(principal, body)


@router.get("/{item_id}", response_model=ReviewItem, summary="Fetch one review item")
async def get_item(item_id: str, services: ServicesDep, principal: Caller) -> ReviewItem:
    return await services.review.get(principal, item_id)


@router.post("/{item_id}/approve", response_model=ReviewItem, summary="Approve a review item")
async def approve(item_id: str, services: ServicesDep, principal: Caller, body: DecisionBody = None) -> ReviewItem:
    return await services.review.approve(principal, item_id, body.reason if body else "")


@router.post("/{item_id}/reject", response_model=ReviewItem, summary="Reject a review item")
async def reject(item_id: str, services: ServicesDep, principal: Caller, body: DecisionBody = None) -> ReviewItem:
    return await services.review.reject(principal, item_id, body.reason if body else "")


@router.post("/{item_id}/quarantine", response_model=ReviewItem,
             summary="Quarantine a review item (a reason is required)")
async def quarantine(item_id: str, services: ServicesDep, principal: Caller, body: DecisionBody = None) -> ReviewItem:
    return await services.review.quarantine(principal, item_id, body.reason if body else "")


@router.get("/{item_id}/transcript", response_model=ReviewTranscript,
            summary="Fetch a review item transcript")
async def transcript(item_id: str, services: ServicesDep, principal: Caller) -> ReviewTranscript:
    return await services.review.transcript(principal, item_id)


@router.get("/{item_id}/attachments/{attachment_index}/download", response_class=Response,
            responses=file_download("The attachment's bytes"),
            summary="Download a review attachment (0-based index)")
async def download_attachment(item_id: str, attachment_index: int, services: ServicesDep,
                              principal: Caller) -> Response:
    att = await services.review.download_attachment(principal, item_id, attachment_index)
    ascii_name = att.filename.encode("ascii", "replace").decode().replace('"', "'")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(att.filename)}"
    return Response(att.content, media_type=att.content_type,
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})
