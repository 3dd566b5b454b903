"""Notifications: /api/v1/notifications/... (each caller sees only their own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from ...schemas import (
    Notification,
    NotificationPreferences,
    NotificationPreferencesUpdate,
    Page,
    ReadAllRequest,
    ReadAllResult,
    UnreadCount,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/notifications", tags=["notifications"],
                   responses=AUTHED_ERRORS)


@router.get("", response_model=Page[Notification], summary="List notifications")
async def list_notifications(
    services: ServicesDep,
    principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    unread: Annotated[bool | None, Query(description="true: only unread; false: only read.")] = None,
    kind: Annotated[str | None, Query(max_length=100, description="One notification kind.")] = None,
    project_id: Annotated[str | None, Query(max_length=64, description="About this project.")] = None,
) -> Page[Notification]:
    return await services.notifications.list(principal, limit=limit, cursor=cursor, unread=unread, kind=kind,
                                             project_id=project_id)


@router.get("/unread-count", response_model=UnreadCount, summary="Read unread notification count")
async def unread_count(services: ServicesDep, principal: Caller) -> UnreadCount:
    return await services.notifications.unread_count(principal)


@router.post("/{notification_id}/read", response_model=Notification,
             summary="Mark one notification as read")
async def mark_read(notification_id: str, services: ServicesDep, principal: Caller) -> Notification:
    return await services.notifications.mark_read(principal, notification_id)


@router.post("/read-all", response_model=ReadAllResult, summary="Mark all notifications as read")
async def read_all(
    services: ServicesDep, principal: Caller, body: Annotated[ReadAllRequest | None, Body()] = None
) -> ReadAllResult:
    # No body marks everything unread; a bound keeps late arrivals unread.
    body = body or ReadAllRequest()
    return await services.notifications.read_all(principal, up_to_id=body.up_to_id, up_to=body.up_to)


@router.post("/{notification_id}/dismiss", response_model=Notification,
             summary="Dismiss one notification")
async def dismiss(notification_id: str, services: ServicesDep, principal: Caller) -> Notification:
    return await services.notifications.dismiss(principal, notification_id)


@router.get("/preferences", response_model=NotificationPreferences, summary="Read notification preferences")
async def get_preferences(services: ServicesDep, principal: Caller) -> NotificationPreferences:
    return await services.notifications.get_preferences(principal)


@router.put("/preferences", response_model=NotificationPreferences, summary="Update notification preferences")
async def update_preferences(
    body: NotificationPreferencesUpdate, services: ServicesDep, principal: Caller
) -> NotificationPreferences:
    return await services.notifications.update_preferences(principal, body)
