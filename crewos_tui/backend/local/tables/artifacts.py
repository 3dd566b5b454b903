"""Tables of generated artifacts: files agents produced (project updates, reports,
HTML), addressed by an unguessable reference token, with every saved revision kept."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Column, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from . import fk_column, utc_column

__all__ = ["ARTIFACT_TABLES", "ArtifactRevisionRow", "ArtifactRow"]


class ArtifactRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "artifacts"
    id: str = Field(primary_key=True)
    reference_token: str = Field(sa_column=Column(String, unique=True, nullable=False))
    # Access follows the project; an artifact without one belongs to its creator.
    project_id: str | None = fk_column("projects.id", nullable=True)
    filename: str
    content_type: str
    kind: str = "file"  # project_update | report | html | file
    origin: str = ""  # what made it, e.g. "agent_job:<id>"
    revision: int = 1  # the current revision
    created_by: str = ""
    created_by_id: str | None = None
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class ArtifactRevisionRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "artifact_revisions"
    __table_args__ = (UniqueConstraint("artifact_id", "revision", name="uq_artifact_revision"),)
    id: str = Field(primary_key=True)
    artifact_id: str = fk_column("artifacts.id")
    revision: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int
    content_hash: str
    note: str = ""
    created_by: str = ""
    created_at: datetime = utc_column()


ARTIFACT_TABLES = ("artifacts", "artifact_revisions")
