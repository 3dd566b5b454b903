"""Authentication and API keys: /api/v1/auth/..."""

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
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CursorQuery, LimitQuery, errors

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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
    "/login",
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


@router.post("/refresh", response_model=TokenPair, responses=AUTHED_ERRORS, summary="Refresh a JWT session")
async def refresh(body: RefreshRequest, services: ServicesDep, principal: JwtCaller) -> TokenPair:
    return await services.auth.refresh(principal, body.refresh_token)


@router.post("/logout", response_model=LogoutResult, responses=AUTHED_ERRORS, summary="Revoke a refresh token")
async def logout(
    services: ServicesDep, principal: JwtCaller, body: Annotated[LogoutRequest | None, Body()] = None
) -> LogoutResult:
    # No body (or no refresh_token) revokes the session of the access token used.
    return await services.auth.logout(principal, body.refresh_token if body else None)


@router.post("/logout-all", response_model=LogoutResult, responses=AUTHED_ERRORS,
             summary="Revoke every refresh token of the current user")
async def logout_all(services: ServicesDep, principal: JwtCaller) -> LogoutResult:
    return await services.auth.logout_all(principal)


@router.get("/me", response_model=Me, responses=AUTHED_ERRORS, summary="The authenticated user")
async def me(services: ServicesDep, principal: Caller) -> Me:
    return await services.auth.me(principal)


@router.get("/api-keys", response_model=Page[ApiKeyInfo], responses=AUTHED_ERRORS, summary="List my API keys")
async def list_api_keys(
    services: ServicesDep, principal: JwtCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None
) -> Page[ApiKeyInfo]:
    return await services.auth.list_api_keys(principal, limit=limit, cursor=cursor)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, responses=errors(401, 403, 409, 422, 429),
             summary="Create an API key (the raw key is returned once)")
async def create_api_key(body: ApiKeyCreate, services: ServicesDep, principal: JwtCaller) -> ApiKeyCreated:
    return await services.auth.create_api_key(principal, body)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyInfo, responses=errors(401, 403, 404, 409, 422, 429),
               summary="Revoke one API key")
async def revoke_api_key(key_id: str, services: ServicesDep, principal: JwtCaller) -> ApiKeyInfo:
    return await services.auth.revoke_api_key(principal, key_id)


@router.get("/sso/providers", response_model=Page[SSOProvider], responses=errors(422),
            summary="Enabled SSO providers")
async def sso_providers(
    services: ServicesDep, principal: Anonymous, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None
) -> Page[SSOProvider]:
    return await services.auth.sso_providers(principal, limit=limit, cursor=cursor)
