"""Authentication and API keys: /api/v1/auth/...

``router`` holds the two public routes (login, SSO providers), each naming its own errors;
``api`` the authenticated ones, documented with every error like the other API routers."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request

from ...errors import RateLimited, Unauthorized
from ...schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyInfo,
    LoginRequest,
    LogoutRequest,
    LogoutResult,
    Me,
    Page,
    RefreshRequest,
    SSOProvider,
    TokenPair,
)
from ..auth import Anonymous, Caller, JwtCaller, ServicesDep
from ..ratelimit import FailureThrottle, SlidingWindowLimiter, TrustedProxies
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery, errors

router = APIRouter(tags=["auth"])
api = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/auth", tags=["auth"], responses=AUTHED_ERRORS)


def login_client(request: Request) -> str:
    """Slow down password guessing per client address, before any password is checked:
    growing delays after failed sign-ins, and a sliding window over all attempts."""
    proxies: TrustedProxies = request.app.state.trusted_proxies
    peer = request.client.host if request.client else "unknown"
    client = proxies.client(peer, request.headers.getlist("x-forwarded-for"))
    failures: FailureThrottle = request.app.state.login_failures
    if (wait := failures.wait(client)) is not None:
        raise RateLimited(f"too many failed sign-ins from this address; try again in {math.ceil(wait)} s",
                          retry_after=wait)
    limiter: SlidingWindowLimiter = request.app.state.login_limiter
    if (wait := limiter.hit(client)) is not None:
        raise RateLimited(f"too many login attempts; try again in {math.ceil(wait)} s", retry_after=wait)
    return client


LoginClient = Annotated[str, Depends(login_client)]


@router.post(
    "/api/v1/auth/login",
    response_model=TokenPair,
    responses=errors(401, 403, 422, 429),
    summary="Exchange username and password for a JWT login response",
)
async def login(body: LoginRequest, services: ServicesDep, principal: Anonymous, client: LoginClient,
                request: Request) -> TokenPair:
    try:
        return await services.auth.login(principal, body.username, body.password)
    except Unauthorized:
        request.app.state.login_failures.failed(client)
        raise


@api.post("/refresh", response_model=TokenPair, summary="Refresh a JWT session")
async def refresh(body: RefreshRequest, services: ServicesDep, principal: JwtCaller) -> TokenPair:
    return await services.auth.refresh(principal, body.refresh_token)


@api.post("/logout", response_model=LogoutResult, summary="Revoke a refresh token")
async def logout(
    services: ServicesDep, principal: JwtCaller, body: Annotated[LogoutRequest | None, Body()] = None
) -> LogoutResult:
    # No body (or no refresh_token) revokes the session of the access token used.
    return await services.auth.logout(principal, body.refresh_token if body else None)


@api.post("/logout-all", response_model=LogoutResult, summary="Revoke every refresh token of the current user")
async def logout_all(services: ServicesDep, principal: JwtCaller) -> LogoutResult:
    return await services.auth.logout_all(principal)


@api.get("/me", response_model=Me, summary="The authenticated user")
async def me(services: ServicesDep, principal: Caller) -> Me:
    return await services.auth.me(principal)


@api.get("/api-keys", response_model=Page[ApiKeyInfo], summary="List my API keys")
async def list_api_keys(
    services: ServicesDep, principal: JwtCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None
) -> Page[ApiKeyInfo]:
    return await services.auth.list_api_keys(principal, limit=limit, cursor=cursor)


@api.post("/api-keys", status_code=201, response_model=ApiKeyCreated,
          summary="Create an API key (the raw key is returned once)")
async def create_api_key(body: ApiKeyCreate, services: ServicesDep, principal: JwtCaller) -> ApiKeyCreated:
    return await services.auth.create_api_key(principal, body)


@api.delete("/api-keys/{key_id}", response_model=ApiKeyInfo, summary="Revoke one API key")
async def revoke_api_key(key_id: str, services: ServicesDep, principal: JwtCaller) -> ApiKeyInfo:
    return await services.auth.revoke_api_key(principal, key_id)


@router.get("/api/v1/auth/sso/providers", response_model=Page[SSOProvider], responses=errors(422),
            summary="Enabled SSO providers")
async def sso_providers(
    services: ServicesDep, principal: Anonymous, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None
) -> Page[SSOProvider]:
    return await services.auth.sso_providers(principal, limit=limit, cursor=cursor)


router.include_router(api)
