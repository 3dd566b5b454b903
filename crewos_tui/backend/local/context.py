"""What every service shares: the database, clock, ids, settings and event bus."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

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
    #: Sign-in throttle, per account: after ``max_failed_logins`` consecutive wrong
    #: passwords the account waits ``login_delay_first`` before the next attempt is
    #: considered, and each further wrong password doubles the wait, up to
    #: ``login_delay_max``. Attempts during a wait are refused like a wrong password
    #: and are not counted, so guessing cannot keep the owner out longer than that.
    max_failed_logins: int = 5
    login_delay_first: timedelta = timedelta(seconds=1)
    login_delay_max: timedelta = timedelta(minutes=15)
    max_upload_bytes: int = 5 * 1024 * 1024
    sso_providers: list[SSOProvider] = field(default_factory=list)
    #: scrypt cost; tests lower it to keep the suite fast.
    scrypt_n: int = 2**14
    #: An OpenAI-compatible endpoint that replaces the built-in agents (from the
    #: profile); None = built-ins only. The key comes from CREWOS_LLM_API_KEY.
    llm_base_url: str | None = None
    llm_model: str | None = None
    #: Pause between streamed chunks of a built-in agent's answer (seconds), so a
    #: reply arrives progressively and can be cancelled; tests set 0.
    stream_chunk_delay: float = 0.015


AgentGuard = Callable[..., Awaitable[None]]


@dataclass
class ServiceContext:
    db: Database
    clock: Clock
    ids: IdGenerator
    settings: Settings
    events: EventBus
    #: Checks every agent run passes before it starts (budgets, team tool configs):
    #: ``await guard(session, principal, agent_name, prompt, project_id)`` raises to refuse.
    agent_guards: list[AgentGuard] = field(default_factory=list)
    #: The semantic cache of agent answers, when enabled (the admin slice provides it).
    answer_cache: Any = None
    #: Per-agent model routing (the admin slice's LLM config): ``await router(session,
    #: principal, agent_name) -> agents.runtime.LLMEndpoint | None``; None = the settings above.
    llm_router: Any = None
