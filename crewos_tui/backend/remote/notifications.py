"""Notifications over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..schemas import (
    Notification,
    NotificationPreferences,
    NotificationPreferencesUpdate,
    Page,
    ReadAllResult,
    UnreadCount,
)
from ..schemas.common import DEFAULT_LIMIT
from .http import API, as_model, as_page, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient

BASE = f"{API}/notifications"


class RemoteNotifications:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    async def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        unread: bool | None = None,
        kind: str | None = None,
        project_id: str | None = None,
    ) -> Page[Notification]:
        flag = None if unread is None else ("true" if unread else "false")
        params = paging(limit, cursor, unread=flag, kind=kind, project_id=project_id)
        return as_page(Notification, await self._b.request("GET", BASE, params=params))

    async def unread_count(self) -> UnreadCount:
        return as_model(UnreadCount, await self._b.request("GET", f"{BASE}/unread-count"))

    async def mark_read(self, notification_id: str) -> Notification:
        return as_model(Notification, await self._b.request("POST", f"{BASE}/{seg(notification_id)}/read"))

    async def read_all(self, up_to_id: str | None = None, up_to: datetime | str | None = None) -> ReadAllResult:
        body: dict[str, Any] = {}
        if up_to_id is not None:
            body["up_to_id"] = up_to_id
        if up_to is not None:
            body["up_to"] = up_to.isoformat() if isinstance(up_to, datetime) else up_to
        return as_model(ReadAllResult, await self._b.request("POST", f"{BASE}/read-all", json=body))

    async def dismiss(self, notification_id: str) -> Notification:
        return as_model(Notification, await self._b.request("POST", f"{BASE}/{seg(notification_id)}/dismiss"))

    async def get_preferences(self) -> NotificationPreferences:
        return as_model(NotificationPreferences, await self._b.request("GET", f"{BASE}/preferences"))

    async def update_preferences(self, data: NotificationPreferencesUpdate) -> NotificationPreferences:
        payload = await self._b.request("PUT", f"{BASE}/preferences",
                                        json=data.model_dump(mode="json", exclude_unset=True))
        return as_model(NotificationPreferences, payload)
