"""Query parameters, documented answers and the route class shared by the route modules.

Every router is ``APIRouter(route_class=CrewOSRoute, ...)``: its creates (POST answering
201) take an ``Idempotency-Key`` header (``server/idempotency.py``).

Error answers are documented once: every router of authenticated ``/api/v1`` routes passes
``AUTHED_ERRORS`` (each error status the server can answer, with its ``{"detail": ...}``
body) as its ``responses``, and no route lists its own. Only the public routes outside
those routers (login, SSO providers, health) name theirs with ``errors(...)``.
"""

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
__all__ = ["AUTHED_ERRORS", "DEFAULT_LIMIT", "ERROR_STATUSES", "CrewOSRoute", "CursorQuery", "LimitQuery", "errors",
           "file_download"]

#: Every status an error answer can have (``backend/errors.py`` and ``handlers.py``), and when.
ERROR_STATUSES: dict[int, str] = {
    401: "No valid credentials: missing, malformed, expired or revoked.",
    403: "Not allowed: the caller's role, project role, namespace grants or API-key scopes forbid it.",
    404: "Not found, or not visible to the caller.",
    409: "Conflicts with the current state: a move the state machine refuses, a duplicate, a stale version.",
    413: "Too large: an upload, message, payload or output over its limit.",
    415: "Unsupported content: a file type or encoding the endpoint does not take.",
    422: "Invalid request: the detail names each field and what is wrong with it.",
    429: "Too many requests, or a budget used up; `Retry-After` says when to try again, when known.",
    503: "Cannot answer now: the database is not ready, no usable keyring, an agent failed.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` saying these status codes answer ``{"detail": ...}``."""
    return {code: {"model": ErrorBody, "description": ERROR_STATUSES[code]} for code in codes}


#: What any authenticated route may answer besides its success: passed once per router.
AUTHED_ERRORS = errors(*ERROR_STATUSES)


def file_download(what: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a download route: the stored bytes under their own content type."""
    return {200: {"description": f"{what}, with its own content type.",
                  "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}
