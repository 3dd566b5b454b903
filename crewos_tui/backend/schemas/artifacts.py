"""Generated artifacts: download, editable source, revisions and layout cleanup."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from .common import MAX_SQL_INT, Request, Wire
from .text import MULTI_LINE

__all__ = [
    "MAX_ARTIFACT_CHARS",
    "ArtifactContent",
    "ArtifactInfo",
    "ArtifactRevision",
    "ArtifactRevisionCreate",
    "ArtifactSource",
    "LayoutCleanupRequest",
    "LayoutCleanupResult",
]

#: The largest source a revision may save (characters).
MAX_ARTIFACT_CHARS = 2_000_000


class ArtifactRevision(Wire):
    revision: int
    size: int
    content_hash: str
    note: str = ""
    created_by: str = ""
    created_at: datetime


class ArtifactInfo(Wire):
    """One artifact in a list (no source): enough to show it and open it by its token."""

    reference_token: str
    filename: str
    content_type: str
    kind: str
    project_id: str | None = None
    origin: str = ""
    current_revision: int
    created_by: str = ""
    created_at: datetime
    updated_at: datetime


class ArtifactSource(Wire):
    """An artifact's current (or a chosen) revision as editable text, with its history."""

    reference_token: str
    filename: str
    content_type: str
    kind: str
    project_id: str | None = None
    origin: str = ""
    revision: int  # the revision ``source`` is
    current_revision: int
    source: str
    #: Whether the caller may save revisions (project editors; the creator of a project-less one).
    editable: bool = False
    revisions: list[ArtifactRevision] = []  # newest first
    created_by: str = ""
    created_at: datetime
    updated_at: datetime


class ArtifactContent(Wire):
    """A downloaded artifact (the bytes are not part of any JSON answer)."""

    reference_token: str = ""
    filename: str
    content_type: str
    revision: int = 0
    size: int
    content: bytes


class ArtifactRevisionCreate(Request):
    source: Annotated[str, StringConstraints(max_length=MAX_ARTIFACT_CHARS)]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), MULTI_LINE] = ""
    #: The revision the edit started from; if someone saved since, the save is refused (409).
    base_revision: Annotated[int | None, Field(ge=1, le=MAX_SQL_INT)] = None


class LayoutCleanupRequest(Request):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), MULTI_LINE] = ""


class LayoutCleanupResult(Wire):
    artifact: ArtifactSource
    changed: bool  # False: already tidy, no revision was written
    changes: list[str] = []
