"""Tables of the notifications slice: each user's notifications and their preferences.

A user's list pages newest first by ``(user_id, id)``; the unread badge counts a
partial index that holds only unread rows, so the count stays a short index scan
however many read notifications a user has kept. Filters by kind or project get
their own ``(user_id, kind|project_id, id)`` index, so a rare kind's first page
does not walk the whole list.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Column, ForeignKey, Index, String, text
from sqlmodel import Field, SQLModel

from . import fk_column, json_column, table_of, utc_column

__all__ = ["NotificationPreferenceRow", "NotificationRow"]

#: The rows the unread badge counts (kept in one place: the partial index and the
#: service's query must say the same thing for SQLite to use the index).
UNREAD_SQL = "read_at IS NULL AND dismissed_at IS NULL"


class NotificationRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "notifications"
    id: str = Field(primary_key=True)
    user_id: str = fk_column("users.id", index=False)  # covered by ix_notifications_user
    kind: str  # a notification kind (see services/notifications/rules.py), not the event kind
    title: str
    body: str = ""
    # The link: what the notification is about. No foreign keys: a notification about a
    # deleted project or task still says what happened.
    resource_type: str
    resource_id: str
    project_id: str | None = None
    actor: str = ""  # username of who caused it
    event_id: str  # the domain event it came from
    created_at: datetime = utc_column()
    read_at: datetime | None = utc_column(nullable=True)
    dismissed_at: datetime | None = utc_column(nullable=True)


_n = table_of(NotificationRow).c
Index("ix_notifications_user", _n.user_id, _n.id)
Index("ix_notifications_user_kind", _n.user_id, _n.kind, _n.id)
Index("ix_notifications_user_project", _n.user_id, _n.project_id, _n.id)
# read_at and dismissed_at are always NULL in here. Listing them before id makes the
# unread query's "IS NULL" terms index constraints, so the planner prefers this index
# over ix_notifications_user even before ANALYZE has run, and the count reads the
# index alone (SQLite does not infer the columns' values from a partial index's WHERE).
Index("ix_notifications_unread", _n.user_id, _n.read_at, _n.dismissed_at, _n.id,
      sqlite_where=text(UNREAD_SQL), postgresql_where=text(UNREAD_SQL))


class NotificationPreferenceRow(SQLModel, table=True):
    """One row per user who changed anything; no row means the defaults (all on)."""

    __tablename__: ClassVar[str] = "notification_preferences"
    user_id: str = Field(sa_column=Column(String, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))
    muted_kinds: list[str] = json_column(list)  # kinds with in-app off: never produced
    muted_projects: list[str] = json_column(list)  # project ids: nothing produced about them
    toasts: bool = True  # the TUI pops a toast for a new notification
    updated_at: datetime = utc_column()
