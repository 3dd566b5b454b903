"""Notifications: what a user is told when something happens that concerns them,
and their preferences (which kinds reach them, which projects are muted)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, computed_field

from .common import Request, Wire

__all__ = [
    "KindPreference",
    "Notification",
    "NotificationLink",
    "NotificationPreferences",
    "NotificationPreferencesUpdate",
    "ReadAllRequest",
    "ReadAllResult",
    "UnreadCount",
]

#: Most projects a user may mute at once.
MAX_MUTED_PROJECTS = 500

_Key = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class NotificationLink(Wire):
    """What a notification is about: a resource (and its project), to jump to."""

    resource_type: str  # project | access_request | folder_update | task | review_item | ...
    resource_id: str
    project_id: str | None = None


class Notification(Wire):
    id: str
    kind: str  # e.g. "project.access_requested"; GET preferences lists them all
    title: str
    body: str = ""
    link: NotificationLink
    actor: str = ""  # username of who caused it
    created_at: datetime
    read_at: datetime | None = None
    dismissed_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unread(self) -> bool:
        """Unread = neither read nor dismissed (what the badge counts)."""
        return self.read_at is None and self.dismissed_at is None


class UnreadCount(Wire):
    unread: int
    #: The newest unread notification: a poller sees "something new" even when one
    #: was read and another arrived between two polls (the count alone stays equal).
    latest_id: str | None = None


class ReadAllRequest(Request):
    """Mark read only what the client has seen: up to an id (inclusive) or a time.

    Both are checked by the service (a malformed id or a time without a zone is
    422), so the local and the remote backend refuse the same input alike.
    """

    up_to_id: str | None = Field(default=None, max_length=64)
    up_to: datetime | None = None


class ReadAllResult(Wire):
    marked: int  # how many were unread and are read now
    read_at: datetime
    up_to_id: str | None = None
    up_to: datetime | None = None


class KindPreference(Wire):
    kind: str
    label: str = ""  # what it means, for a preferences form
    in_app: bool = True  # off: notifications of this kind are not produced for the user


class NotificationPreferences(Wire):
    kinds: list[KindPreference]  # every kind there is, in a stable order
    muted_projects: list[str] = Field(default_factory=list)  # project ids: nothing is produced about them
    toasts: bool = True  # the TUI pops up a toast for a new notification
    updated_at: datetime | None = None  # None: the defaults, never changed


class NotificationPreferencesUpdate(Request):
    """Only what is given changes: ``kinds`` maps kind → in-app on/off (other kinds keep
    their setting); ``muted_projects`` replaces the list."""

    kinds: dict[_Key, bool] | None = None
    muted_projects: list[_Key] | None = Field(default=None, max_length=MAX_MUTED_PROJECTS)
    toasts: bool | None = None
