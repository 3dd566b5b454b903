"""One place that turns failures into ``{"detail": "..."}`` responses.

``CrewOSError`` → its status code (a ``DatabaseError`` → 503 with its line for clients, the
whole line logged); request validation, and a body that fails to parse,
→ 422 with a readable string; anything else → 500 "internal error", logged. The catch-all is a pure ASGI
middleware rather than an ``Exception`` handler because Starlette's
``ServerErrorMiddleware`` re-raises after answering, which would crash in-process
test clients instead of giving them the 500 we want them to see.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import CrewOSError, DatabaseError, Unauthorized

log = logging.getLogger("crewos_tui.server")

#: What a 401 tells the client it may send.
WWW_AUTHENTICATE = 'Bearer realm="crewos", ApiKey header="X-CrewOS-API-Key"'
#: A validation answer names at most this many problems; the rest are counted.
MAX_VALIDATION_ISSUES = 5


class ErrorBody(BaseModel):
    """Every error answer: one readable sentence."""

    detail: str


def error_headers(exc: CrewOSError) -> dict[str, str]:
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return headers


def client_detail(exc: CrewOSError) -> str:
    """What a client reads. A ``DatabaseError`` names the problem without the server's paths;
    the operator reads its whole line (file, what to do) in the server's log."""
    if isinstance(exc, DatabaseError):
        log.error("%s", exc.detail)
        return exc.client_detail
    return exc.detail


def error_response(exc: CrewOSError) -> JSONResponse:
    return JSONResponse({"detail": client_detail(exc)}, status_code=exc.status_code, headers=error_headers(exc))


def _loc_text(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def _issue_text(error: dict[str, Any]) -> str:
    loc = _loc_text(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        # loc is ("body", <char offset>): say what is wrong rather than where in bytes
        ctx: dict[str, Any] = error.get("ctx") or {}
        reason = ctx.get("error", "")
        return f"body: invalid JSON{f' ({reason})' if reason else ''}"
    return f"{loc}: {error.get('msg', 'invalid value')}"


def validation_detail(errors: Sequence[dict[str, Any]]) -> str:
    """``body.name: String should have at least 1 character; query.limit: ...``."""
    issues = list(dict.fromkeys(_issue_text(e) for e in errors))  # unique, in order
    text = "; ".join(issues[:MAX_VALIDATION_ISSUES])
    if len(issues) > MAX_VALIDATION_ISSUES:
        text += f" (and {len(issues) - MAX_VALIDATION_ISSUES} more)"
    return text or "invalid request"


async def crewos_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CrewOSError)
    return error_response(exc)


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_detail(exc.errors())}, status_code=422)


def _unparsable_body_detail(exc: BaseException) -> str:
    """Why a body could not be read, in the words of the 422 for malformed JSON."""
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return "body: invalid JSON (not UTF-8 text)"
    reason = str(cause).strip() if cause is not None else ""
    return f"body: could not be parsed{f' ({reason[:200]})' if reason else ''}"


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (404 no route, 405, ...) keep their answer, except FastAPI's 400
    for a body that fails to parse (JSON that is not UTF-8, a broken multipart form): that
    becomes the 422 every route documents, as malformed JSON already is."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        return JSONResponse({"detail": _unparsable_body_detail(exc)}, status_code=422)
    return await http_exception_handler(request, exc)


class CatchAllMiddleware:
    """Outermost: an unexpected exception becomes a logged 500, never a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # a half-sent answer must not look complete: let the server abort it
            body = json.dumps({"detail": "internal error"}).encode()
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
