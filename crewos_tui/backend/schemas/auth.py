"""Authentication, users and API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from .common import Name, Request, Wire
from .text import ONE_LINE


class Role(StrEnum):
    admin = "admin"
    member = "member"
    viewer = "viewer"


class Scope(StrEnum):
    """What an API key may do: ``read`` (GET) and/or ``write`` (everything else)."""

    read = "read"
    write = "write"


Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$"),
    ONE_LINE,
]


class LoginRequest(Request):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenPair(Wire):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshRequest(Request):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class LogoutRequest(Request):
    refresh_token: str | None = None


class LogoutResult(Wire):
    revoked: int


class Me(Wire):
    id: str
    username: str
    team: str
    role: Role
    namespace_grants: list[str] = []
    auth_method: str


class ApiKeyCreate(Request):
    name: Name
    scopes: list[Scope] | None = None
    expires_at: datetime | None = None


class ApiKeyCreated(Wire):
    id: str
    name: str
    prefix: str
    key: str
    scopes: list[str]
    expires_at: datetime | None = None
    created_at: datetime


class ApiKeyInfo(Wire):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None = None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class SSOProvider(Wire):
    id: str
    name: str
    kind: str = "oidc"
    login_url: str | None = None


class UserCreate(Request):
    username: Username
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    role: Role = Role.member
    team: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), ONE_LINE] = "default"
    namespace_grants: list[str] = Field(default_factory=list)


class UserInfo(Wire):
    id: str
    username: str
    team: str
    role: Role
    namespace_grants: list[str] = []
    disabled: bool = False
    locked_until: datetime | None = None
    created_at: datetime
