"""Who is calling: built by the server from a credential, by the local backend
from the local profile, and passed to every service call."""

from __future__ import annotations

from dataclasses import dataclass, field

from .schemas.auth import Role

ALL_SCOPES = frozenset({"read", "write"})


@dataclass(frozen=True)
class Principal:
    user_id: str | None
    username: str
    team: str
    role: Role
    namespace_grants: tuple[str, ...] = ()
    scopes: frozenset[str] = field(default_factory=lambda: ALL_SCOPES)
    # "local" (embedded backend), "api_key", "jwt", or "anonymous" (public calls)
    auth_method: str = "local"
    session_id: str | None = None  # refresh-token family of a JWT login
    api_key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_anonymous(self) -> bool:
        return self.auth_method == "anonymous"

    @classmethod
    def system(cls) -> Principal:
        """The command line acting on the data dir (``users add``, bootstrap, demo seeding)."""
        return cls(user_id=None, username="system", team="", role=Role.admin, auth_method="system")

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(user_id=None, username="anonymous", team="", role=Role.viewer, scopes=frozenset(),
                   auth_method="anonymous")
