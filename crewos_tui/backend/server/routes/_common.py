"""Query parameters, documented error answers and the route class shared by the route modules.

Every router is ``APIRouter(route_class=CrewOSRoute, ...)``: its creates (POST answering
201) take an ``Idempotency-Key`` header (``server/idempotency.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from ...schemas.common import DEFAULT_LIMIT, MAX_LIMIT
from ..handlers import ErrorBody
from ..idempotency import CrewOSRoute

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
CursorQuery = Annotated[
    str | None, Query(max_length=1024, description="`next_cursor` of the previous page.")
]
__all__ = ["DEFAULT_LIMIT", "AUTHED_ERRORS", "CrewOSRoute", "CursorQuery", "LimitQuery", "errors"]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` saying these status codes answer ``{"detail": ...}``."""
    return {code: {"model": ErrorBody} for code in codes}


#: Every authenticated route may answer these.
AUTHED_ERRORS = errors(401, 403, 422, 429)
