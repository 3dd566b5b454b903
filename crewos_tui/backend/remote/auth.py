"""Authentication and API keys over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyInfo,
    LogoutResult,
    Me,
    Page,
    SSOProvider,
    TokenPair,
)
from ..schemas.common import DEFAULT_LIMIT
from .http import API, NO_BODY, as_model, as_page, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteAuth:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    def _keep(self, pair: TokenPair) -> TokenPair:
        # Later JWT-only calls (API keys, logout) use the session just opened.
        self._b.access_token, self._b.refresh_token = pair.access_token, pair.refresh_token
        return pair

    async def login(self, username: str, password: str) -> TokenPair:
        body = {"username": username, "password": password}
        return self._keep(
            as_model(TokenPair, await self._b.request("POST", f"{API}/auth/login", credential="public", json=body))
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        payload = await self._b.request(
            "POST", f"{API}/auth/refresh", credential="jwt", json={"refresh_token": refresh_token}
        )
        return self._keep(as_model(TokenPair, payload))

    async def logout(self, refresh_token: str | None = None) -> LogoutResult:
        body = {"refresh_token": refresh_token} if refresh_token else NO_BODY
        payload = await self._b.request("POST", f"{API}/auth/logout", credential="jwt", json=body)
        result = as_model(LogoutResult, payload)
        if refresh_token is None or refresh_token == self._b.refresh_token:
            self._b.access_token = self._b.refresh_token = None  # this session is over
        return result

    async def logout_all(self) -> LogoutResult:
        result = as_model(LogoutResult, await self._b.request("POST", f"{API}/auth/logout-all", credential="jwt"))
        self._b.access_token = self._b.refresh_token = None
        return result

    async def me(self) -> Me:
        return as_model(Me, await self._b.request("GET", f"{API}/auth/me"))

    async def list_api_keys(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ApiKeyInfo]:
        payload = await self._b.request("GET", f"{API}/auth/api-keys", credential="jwt", params=paging(limit, cursor))
        return as_page(ApiKeyInfo, payload)

    async def create_api_key(self, data: ApiKeyCreate) -> ApiKeyCreated:
        payload = await self._b.create(
            f"{API}/auth/api-keys", credential="jwt", json=data.model_dump(mode="json", exclude_none=True)
        )
        return as_model(ApiKeyCreated, payload)

    async def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        return as_model(
            ApiKeyInfo, await self._b.request("DELETE", f"{API}/auth/api-keys/{seg(key_id)}", credential="jwt")
        )

    async def sso_providers(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[SSOProvider]:
        payload = await self._b.request(
            "GET", f"{API}/auth/sso/providers", credential="public", params=paging(limit, cursor)
        )
        return as_page(SSOProvider, payload)
