"""What every service shares: the database, clock, ids, settings and event bus."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from ..ids import Clock, IdGenerator
from ..schemas.auth import SSOProvider
from .db import Database
from .events import EventBus


@dataclass
class Settings:
    #: Signs access tokens. Kept in memory only: from CREWOS_JWT_SECRET when a
    #: deployment sets it, otherwise random per process (access tokens then end
    #: with the process; refresh tokens live in the database, hashed, and survive).
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    max_upload_bytes: int = 5 * 1024 * 1024
    sso_providers: list[SSOProvider] = field(default_factory=list)
    #: scrypt cost; tests lower it to keep the suite fast.
    scrypt_n: int = 2**14


@dataclass
class ServiceContext:
    db: Database
    clock: Clock
    ids: IdGenerator
    settings: Settings
    events: EventBus
