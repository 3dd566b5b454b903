"""What the Backend offers for notifications: a user's own list, the unread count,
reading and dismissing, and preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ..schemas import (
    Notification,
    NotificationPreferences,
    NotificationPreferencesUpdate,
    Page,
    ReadAllResult,
    UnreadCount,
)
from ..schemas.common import DEFAULT_LIMIT


class NotificationsAPI(Protocol):
    async def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        unread: bool | None = None,
        kind: str | None = None,
        project_id: str | None = None,
    ) -> Page[Notification]:
        """The caller's notifications, newest first, without dismissed ones.

        ``unread`` True lists only unread ones, False only read ones; ``kind`` (422 when
        unknown) and ``project_id`` filter further.
        """
        ...

    async def unread_count(self) -> UnreadCount:
        """How many are unread (neither read nor dismissed), and the newest unread id."""
        ...

    async def mark_read(self, notification_id: str) -> Notification:
        """Mark one read (404 for an unknown or another user's notification)."""
        ...

    async def read_all(self, up_to_id: str | None = None, up_to: datetime | str | None = None) -> ReadAllResult:
        """Mark all unread read, optionally only up to an id (inclusive) or a time, so one
        that arrives meanwhile stays unread. A malformed bound, or both, is 422."""
        ...

    async def dismiss(self, notification_id: str) -> Notification:
        """Dismiss one: it leaves the list and the unread count."""
        ...

    async def get_preferences(self) -> NotificationPreferences:
        """Every notification kind with its in-app setting, muted projects, toasts."""
        ...

    async def update_preferences(self, data: NotificationPreferencesUpdate) -> NotificationPreferences:
        """Change some preferences (unknown kinds and invisible projects are 422)."""
        ...
