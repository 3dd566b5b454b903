"""Query parameters and documented error answers shared by the route modules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from ...schemas.common import DEFAULT_LIMIT, MAX_LIMIT
from ..handlers import ErrorBody

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
CursorQuery = Annotated[
    str | None, Query(max_length=1024, description="`next_cursor` of the previous page.")
]
__all__ = ["DEFAULT_LIMIT", "AUTHED_ERRORS", "CursorQuery", "LimitQuery", "errors"]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` saying these status codes answer ``{"detail": ...}``."""
    return {code: {"model": ErrorBody} for code in codes}


#: Every authenticated route may answer these.
AUTHED_ERRORS = errors(401, 403, 422, 429)
