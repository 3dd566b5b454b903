"""SQLModel tables of the local service layer. Only services touch these.

Ids are ULID strings (sortable by creation time); times are UTC. JSON columns hold
short lists (scopes, grants) and event payloads. The foundation's tables are here;
a slice puts its tables in a module of this package, imports it at the bottom, and
adds a migration step in ``db.py`` that creates them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import QueryableAttribute
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Stores naive UTC in SQLite, hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_column(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def fk_column(target: str, ondelete: str = "CASCADE", nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(String, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def json_column(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


def table_of(model: type[SQLModel]) -> Table:
    """The ``Table`` of a table model (``Model.__table__``, typed)."""
    return model.__table__  # pyright: ignore[reportAttributeAccessIssue]  # set by SQLAlchemy, not declared by SQLModel


def orm_attr(field: Any) -> QueryableAttribute[Any]:
    """A table model's field at class level, typed as the ORM attribute it is (for ``defer()``)."""
    return field


# ---- auth -------------------------------------------------------------------------


class UserRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "users"
    id: str = Field(primary_key=True)
    username: str = Field(sa_column=Column(String, unique=True, nullable=False))
    password_hash: str
    team: str = Field(default="default", index=True)
    role: str = "member"
    namespace_grants: list[str] = json_column(list)
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = utc_column(nullable=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class RefreshTokenRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "refresh_tokens"
    id: str = Field(primary_key=True)
    user_id: str = fk_column("users.id")
    session_id: str = Field(index=True)  # the login this token descends from
    token_hash: str = Field(sa_column=Column(String, unique=True, nullable=False))
    created_at: datetime = utc_column()
    expires_at: datetime = utc_column()
    revoked_at: datetime | None = utc_column(nullable=True)
    replaced_by: str | None = None


class ApiKeyRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "api_keys"
    id: str = Field(primary_key=True)
    user_id: str = fk_column("users.id")
    name: str
    prefix: str = Field(sa_column=Column(String, unique=True, nullable=False))
    key_hash: str
    scopes: list[str] = json_column(list)
    expires_at: datetime | None = utc_column(nullable=True)
    created_at: datetime = utc_column()
    last_used_at: datetime | None = utc_column(nullable=True)
    revoked_at: datetime | None = utc_column(nullable=True)


# ---- projects ---------------------------------------------------------------------


class ProjectRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "projects"
    __table_args__ = (UniqueConstraint("team", "name_key", name="uq_project_team_name"),)
    id: str = Field(primary_key=True)
    name: str
    name_key: str  # casefolded name: unique per team
    description: str = ""
    template: str = "blank"
    status: str = Field(default="active", index=True)
    team: str = Field(default="default", index=True)
    owner_id: str | None = fk_column("users.id", ondelete="SET NULL", nullable=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    archived_at: datetime | None = utc_column(nullable=True)


class ProjectMemberRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "project_members"
    project_id: str = Field(sa_column=Column(String, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True))
    user_id: str = Field(sa_column=Column(String, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))
    role: str = "viewer"
    added_at: datetime = utc_column()


Index("ix_project_members_user", table_of(ProjectMemberRow).c.user_id)


class AccessRequestRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "access_requests"
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id")
    user_id: str = fk_column("users.id")
    role: str = "viewer"
    message: str = ""
    status: str = Field(default="pending", index=True)
    created_at: datetime = utc_column()
    decided_by: str | None = None
    decided_at: datetime | None = utc_column(nullable=True)
    comment: str = ""


class ScaffoldItemRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "scaffold_items"
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id")
    kind: str
    path: str
    title: str
    description: str = ""
    position: int = 0


class FolderRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "folders"
    __table_args__ = (UniqueConstraint("project_id", "path", name="uq_folder_path"),)
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id")
    path: str
    name: str
    created_at: datetime = utc_column()


class FolderUpdateRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "folder_updates"
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id")
    action: str
    path: str
    new_path: str | None = None
    reason: str = ""
    status: str = Field(default="pending", index=True)
    proposed_by: str
    created_at: datetime = utc_column()
    decided_by: str | None = None
    decided_at: datetime | None = utc_column(nullable=True)
    comment: str = ""


class DocumentRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "documents"
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id")
    folder_path: str | None = None
    filename: str
    content_type: str
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    text: str = ""
    content_hash: str
    status: str = "ingested"
    uploaded_by: str
    created_at: datetime = utc_column()
    ingested_at: datetime = utc_column()
    ingest_count: int = 1


# ---- domain events (schema v2) ------------------------------------------------------


class DomainEventRow(SQLModel, table=True):
    """Every state change, recorded once in the transaction that made it."""

    __tablename__: ClassVar[str] = "domain_events"
    id: str = Field(primary_key=True)
    kind: str = Field(index=True)  # e.g. "project.created"
    actor_id: str | None = None
    actor: str = ""
    auth_method: str = ""
    resource_type: str
    resource_id: str
    project_id: str | None = Field(default=None, index=True)
    data: dict[str, Any] = json_column(dict)
    created_at: datetime = utc_column()


# ---- slices' tables (imported so that SQLModel.metadata knows them) ------------------
from .tasks import *  # noqa: E402,F403
from .tokens import *  # noqa: E402,F403
from .notifications import *  # noqa: E402,F403
from .review import *  # noqa: E402,F403
from .admin import *  # noqa: E402,F403
from .chat import *  # noqa: E402,F403
from .knowledge import *  # noqa: E402,F403
from .artifacts import *  # noqa: E402,F403
from .workers import *  # noqa: E402,F403
from .idempotency import *  # noqa: E402,F403
