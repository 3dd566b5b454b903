"""Credentials → ``Principal``, before routing or input validation.

``AuthMiddleware`` (pure ASGI, so streaming responses keep working) authenticates
every ``/api/v1`` request except the public ones and stores the principal in
``scope["state"]["principal"]``; a request without valid credentials is answered
401 whatever its path or body. It also applies API-key scopes (``read`` for
GET/HEAD, ``write`` for the rest). Per-route rules that depend on *how* the caller
authenticated (JWT only, admin) are the dependencies at the bottom.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import CrewOSError, Forbidden, Unauthorized
from ..local.services import Services
from ..principal import Principal
from .handlers import error_response

API_PREFIX = "/api/v1"
API_KEY_HEADER = "X-CrewOS-API-Key"
#: /api/v1 paths anyone may call (the map's "Public" rows).
PUBLIC_API_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/sso/providers"})
#: Refresh accepts an expired access token: the refresh token in the body is what counts.
REFRESH_PATH = "/api/v1/auth/refresh"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Raw API keys start with this; a JWT never does (so "Bearer crewos_..." is a key).
API_KEY_MARK = "crewos_"


def needs_credentials(path: str) -> bool:
    return (path == API_PREFIX or path.startswith(API_PREFIX + "/")) and path not in PUBLIC_API_PATHS


async def resolve_principal(services: Services, headers: Headers, path: str, method: str) -> Principal:
    """The caller behind the request's credential, or ``Unauthorized``."""
    api_key = headers.get(API_KEY_HEADER)
    if api_key is not None:
        return await services.auth.authenticate_api_key(api_key.strip())
    authorization = headers.get("authorization")
    if authorization is None:
        raise Unauthorized(f"credentials required: send an {API_KEY_HEADER} header or 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    if token.startswith(API_KEY_MARK):
        return await services.auth.authenticate_api_key(token)
    allow_expired = path == REFRESH_PATH and method == "POST"
    return await services.auth.authenticate_jwt(token, allow_expired=allow_expired)


def check_scopes(principal: Principal, method: str) -> None:
    """An API key may only do what its scopes say."""
    if principal.auth_method != "api_key":
        return
    needed = "read" if method in READ_METHODS else "write"
    if needed not in principal.scopes:
        raise Forbidden(f"this API key lacks the {needed!r} scope")


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not needs_credentials(scope["path"]):
            await self.app(scope, receive, send)
            return
        services: Services = scope["app"].state.services
        method = scope.get("method", "GET")
        try:
            principal = await resolve_principal(services, Headers(scope=scope), scope["path"], method)
            check_scopes(principal, method)
        except CrewOSError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": exc.detail[:120]})
            else:
                await error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


# ---- per-route dependencies ------------------------------------------------------------
# The security schemes only document the credentials in /openapi.json (and give /docs
# its "Authorize" button); the middleware has already checked them.
api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="An API key (crewos_...).")
bearer_scheme = HTTPBearer(auto_error=False, description="An access token from POST /api/v1/auth/login.")


def get_services(request: Request) -> Services:
    return request.app.state.services


def _principal_of(request: Request) -> Principal:
    principal = request.scope.get("state", {}).get("principal")
    if principal is None:  # a route outside the middleware's reach: refuse rather than guess
        raise Unauthorized("credentials required")
    return principal


def caller(
    request: Request,
    _key: Annotated[str | None, Security(api_key_scheme)] = None,
    _bearer: Annotated[object, Security(bearer_scheme)] = None,
) -> Principal:
    """Either credential (the map's "API key" rows)."""
    return _principal_of(request)


def jwt_caller(request: Request, _bearer: Annotated[object, Security(bearer_scheme)] = None) -> Principal:
    """A login session only (the map's "JWT" rows): keys cannot manage keys or sessions."""
    principal = _principal_of(request)
    if principal.auth_method != "jwt":
        raise Forbidden(
            "this endpoint needs an access token from /api/v1/auth/login; "
            "API keys cannot manage API keys or login sessions"
        )
    return principal


def admin_caller(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """Either credential, role admin (the map's "Admin" rows)."""
    if not principal.is_admin:
        raise Forbidden("this needs the admin role")
    return principal


def anonymous_caller() -> Principal:
    """Public endpoints run as the anonymous principal."""
    return Principal.anonymous()


ServicesDep = Annotated[Services, Depends(get_services)]
Caller = Annotated[Principal, Depends(caller)]
JwtCaller = Annotated[Principal, Depends(jwt_caller)]
AdminCaller = Annotated[Principal, Depends(admin_caller)]
Anonymous = Annotated[Principal, Depends(anonymous_caller)]
