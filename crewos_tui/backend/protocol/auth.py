"""What the Backend offers for authentication and API keys."""

from __future__ import annotations

from typing import Protocol

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


class AuthAPI(Protocol):
    async def login(self, username: str, password: str) -> TokenPair:
        """Exchange username and password for an access and a refresh token."""
        ...

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token: the old one stops working, a new pair is returned."""
        ...

    async def logout(self, refresh_token: str | None = None) -> LogoutResult:
        """Revoke one refresh token (or the current session's)."""
        ...

    async def logout_all(self) -> LogoutResult:
        """Revoke every refresh token of the current user."""
        ...

    async def me(self) -> Me:
        """Who the caller is: user, team, role, namespace grants, auth method."""
        ...

    async def list_api_keys(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ApiKeyInfo]:
        """The caller's API keys, newest first, never with the raw key."""
        ...

    async def create_api_key(self, data: ApiKeyCreate) -> ApiKeyCreated:
        """Create an API key; the raw key is in this answer and nowhere else."""
        ...

    async def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        """Revoke one of the caller's keys."""
        ...

    async def sso_providers(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[SSOProvider]:
        """The configured SSO providers (empty by default)."""
        ...
