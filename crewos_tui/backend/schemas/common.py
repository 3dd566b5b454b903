"""Shared wire-model pieces: base classes, pages, limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

#: A display name: trimmed, 1..120 characters.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
#: Free text such as descriptions and comments.
Text = Annotated[str, StringConstraints(max_length=4000)]


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
