"""Shared wire-model pieces: base classes, pages, limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .text import MULTI_LINE, ONE_LINE

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: Ids are ULIDs (26 characters); other backends' ids are allowed up to this length.
MAX_ID_CHARS = 128

#: A display name: one line without control characters, trimmed, 1..120 characters.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), ONE_LINE]
#: Free text such as descriptions and comments: newlines and tabs kept, other controls refused.
Text = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]
#: The id of something that must exist (a project, a user, a task): never empty, so an
#: empty string is a 422 here rather than a row pointing at nothing.
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS), ONE_LINE]
#: The largest integer SQLite stores (a signed 64-bit integer); bound every stored or compared int by it.
MAX_SQL_INT = 2**63 - 1
#: Any integer SQLite can store: the bound for an int field whose real range the service checks.
SqlInt = Annotated[int, Field(ge=-MAX_SQL_INT - 1, le=MAX_SQL_INT)]


class Wire(BaseModel):
    """A response model. Unknown fields from a real CrewOS server are ignored."""

    # defer_build: schemas are built on first use, not at import (start-up time).
    model_config = ConfigDict(extra="ignore", from_attributes=True, defer_build=True)


class Request(BaseModel):
    """A request body. Unknown fields are refused, so a typo gets a clear 422."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Page(Wire, Generic[T]):
    """One page of a list; pass ``next_cursor`` back to get the next one."""

    items: list[T]
    next_cursor: str | None = None


class Deleted(Wire):
    """Answer to a delete: what was removed."""

    id: str
    deleted: bool = True


Timestamp = datetime
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
