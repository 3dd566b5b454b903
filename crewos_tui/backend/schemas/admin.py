"""Admin automation: users, agent namespace policies, team tool configs, LLM routing,
token budgets and usage, the semantic cache, queue stats, pipeline policy and
prompt standards.

Request models check types only; the admin service checks ranges and names, so the
same readable 422 (naming the field) comes back from both backends.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import Field, SecretStr

from .auth import Role
from .common import Id, Request, SqlInt, Wire
from .text import MultiLine, SingleLine

# ---- users ------------------------------------------------------------------------------


class AdminUser(Wire):
    id: str
    username: str
    team: str
    role: Role
    namespace_grants: list[str] = Field(default_factory=list)
    disabled: bool = False
    locked_until: datetime | None = None
    failed_logins: int = 0
    created_at: datetime
    updated_at: datetime | None = None


def sign_in_state(user: AdminUser, now: datetime) -> str:
    """What a user record says about signing in, for an admin to read.

    Sign-in never locks an account for good: after too many wrong passwords in a row it
    refuses every attempt until ``locked_until`` (each further wrong one doubles the wait),
    and an admin's unlock ends the wait and resets the count. So: ``disabled``,
    ``throttled until 2026-03-02 09:30 UTC`` (a wait still running), ``2 failed sign-ins``
    (wrong passwords in a row, no wait now), or ``active``."""
    if user.disabled:
        return "disabled"
    until = user.locked_until
    if until is not None:
        until = until if until.tzinfo is not None else until.replace(tzinfo=UTC)
        if until > now:
            return f"throttled until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if user.failed_logins:
        return f"{user.failed_logins} failed sign-in{'s' if user.failed_logins != 1 else ''}"
    return "active"


class UserUpdate(Request):
    """Only the fields given change; at least one is required."""

    role: Role | None = None
    team: SingleLine | None = None
    disabled: bool | None = None
    namespace_grants: list[str] | None = None


# ---- agent namespace policies and team tool configs ----------------------------------------


class AgentNamespacePolicy(Wire):
    agent: str
    #: Namespace patterns (``*`` matches any run of characters) the agent may read / write.
    read: list[str] = Field(default_factory=list)
    write: list[str] = Field(default_factory=list)
    is_default: bool = False  # no policy stored: the agent is not restricted
    updated_at: datetime | None = None
    updated_by: str | None = None


class AgentNamespacePolicyUpdate(Request):
    read: list[str] = Field(default_factory=list)
    write: list[str] = Field(default_factory=list)


class TeamToolConfig(Wire):
    team: str
    #: Agents the team may run; None = every agent.
    allowed_agents: list[str] | None = None
    #: Tools (skill ids) the team may use; None = every tool.
    allowed_tools: list[str] | None = None
    is_default: bool = False
    user_count: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None


class TeamToolConfigUpdate(Request):
    allowed_agents: list[str] | None = None
    allowed_tools: list[str] | None = None


# ---- LLM routing, catalog, budgets, usage ----------------------------------------------------


class LlmProvider(StrEnum):
    builtin = "builtin"
    openai_compatible = "openai_compatible"


class LlmRoute(Wire):
    """Which model answers for an agent (``*`` = every agent without its own route)."""

    agent: str
    provider: LlmProvider = LlmProvider.builtin
    base_url: str | None = None
    model: str | None = None
    #: Name of an environment variable (on the machine running the service) holding the key.
    api_key_env: str | None = None
    #: Where the endpoint's secret lives: "keyring", "env" or "none". Never the secret itself.
    secret_source: str = "none"


class LlmRouteUpdate(Request):
    agent: SingleLine
    provider: LlmProvider = LlmProvider.builtin
    base_url: SingleLine | None = None
    model: SingleLine | None = None
    api_key_env: SingleLine | None = None
    #: Write-only: stored in the OS keyring of the machine running the service, never in the database.
    api_key: SecretStr | None = None
    #: Remove a stored keyring secret for this route.
    clear_api_key: bool = False


class LlmConfig(Wire):
    routes: list[LlmRoute] = Field(default_factory=list[LlmRoute])
    cache_enabled: bool = False
    cache_ttl_seconds: int = 86_400
    request_timeout_seconds: int = 60
    updated_at: datetime | None = None
    updated_by: str | None = None


class LlmConfigUpdate(Request):
    """``routes`` (when given) replaces every route; other fields change when given."""

    routes: list[LlmRouteUpdate] | None = None
    cache_enabled: bool | None = None
    cache_ttl_seconds: SqlInt | None = None
    request_timeout_seconds: SqlInt | None = None


class ModelInfo(Wire):
    id: str
    provider: LlmProvider
    name: str
    description: str = ""
    context_window: int | None = None
    max_output_tokens: int | None = None
    #: Agents whose route uses this model now.
    used_by: list[str] = Field(default_factory=list)


class TeamBudget(Wire):
    team: str
    daily_tokens: int


class UserBudget(Wire):
    user_id: str
    username: str = ""
    daily_tokens: int


class TokenBudget(Wire):
    """Daily token limits (tokens in + out, UTC day). None = no limit."""

    enabled: bool = True
    team_daily_default: int | None = None
    user_daily_default: int | None = None
    teams: list[TeamBudget] = Field(default_factory=list[TeamBudget])
    users: list[UserBudget] = Field(default_factory=list[UserBudget])
    updated_at: datetime | None = None
    updated_by: str | None = None


class TeamBudgetUpdate(Request):
    team: SingleLine
    daily_tokens: SqlInt


class UserBudgetUpdate(Request):
    user_id: Id
    daily_tokens: SqlInt


class TokenBudgetUpdate(Request):
    """Fields given replace the stored ones (``teams``/``users`` replace the whole list)."""

    enabled: bool | None = None
    team_daily_default: SqlInt | None = None
    user_daily_default: SqlInt | None = None
    clear_team_daily_default: bool = False
    clear_user_daily_default: bool = False
    teams: list[TeamBudgetUpdate] | None = None
    users: list[UserBudgetUpdate] | None = None


class UsageBucket(Wire):
    key: str  # the day (YYYY-MM-DD), agent, team or user id
    label: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    runs: int = 0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


class UsageSummary(Wire):
    since: date
    until: date
    last_usage_day: date | None = None  # the latest day with any usage (any filter ignored)
    tokens_in: int = 0
    tokens_out: int = 0
    runs: int = 0
    cached_runs: int = 0
    # every day of the range, oldest first, zeros included
    by_day: list[UsageBucket] = Field(default_factory=list[UsageBucket])
    by_agent: list[UsageBucket] = Field(default_factory=list[UsageBucket])
    by_team: list[UsageBucket] = Field(default_factory=list[UsageBucket])
    by_user: list[UsageBucket] = Field(default_factory=list[UsageBucket])


# ---- semantic cache ----------------------------------------------------------------------------


class CacheAgentStats(Wire):
    agent: str
    entries: int = 0
    bytes: int = 0
    hits: int = 0
    misses: int = 0


class CacheStats(Wire):
    enabled: bool
    entries: int = 0
    bytes: int = 0
    hits: int = 0
    misses: int = 0
    hit_rate: float = 0.0  # hits / (hits + misses); a ratio, not an amount
    by_agent: list[CacheAgentStats] = Field(default_factory=list[CacheAgentStats])


class CacheInvalidate(Request):
    """Nothing given = everything; otherwise entries of that agent and/or project."""

    agent: str | None = None
    project_id: Id | None = None


class CacheInvalidated(Wire):
    removed: int
    agent: str | None = None
    project_id: str | None = None


# ---- queue stats ---------------------------------------------------------------------------------


class QueueKindStats(Wire):
    kind: str
    by_state: dict[str, int] = Field(default_factory=dict)


class QueueStats(Wire):
    total: int = 0
    by_state: dict[str, int] = Field(default_factory=dict)
    by_kind: list[QueueKindStats] = Field(default_factory=list[QueueKindStats])
    oldest_queued_at: datetime | None = None
    oldest_queued_age_seconds: int | None = None
    #: The newest heartbeat of any job (a runner beats while it works on one).
    runner_heartbeat_at: datetime | None = None
    runner_heartbeat_age_seconds: int | None = None
    #: True: a running job holds a live lease. False: jobs wait or leases ran out with no
    #: runner working. None: nothing to tell (the queue is idle).
    runner_alive: bool | None = None
    #: Running jobs whose lease expired (their runner died; they will be re-queued).
    stale_running: int = 0
    #: "ok", or why no jobs table can be read (the jobs slice is not installed).
    source: str = "ok"


# ---- pipeline policy and prompt standards -----------------------------------------------------------


class PipelinePolicy(Wire):
    """Defaults that govern agent work."""

    #: Outputs of agent task runs go to the review queue before they count as done.
    require_review: bool = True
    #: A validation score (0–100) at or above this passes.
    validation_threshold: int = 70
    #: How often a failed agent job is retried before it stays failed.
    max_retries: int = 2
    #: A running agent job is stopped after this long.
    job_timeout_seconds: int = 900
    #: Validate agent outputs against the agent's prompt standard.
    enforce_prompt_standards: bool = True
    updated_at: datetime | None = None
    updated_by: str | None = None


class PipelinePolicyUpdate(Request):
    require_review: bool | None = None
    validation_threshold: SqlInt | None = None
    max_retries: SqlInt | None = None
    job_timeout_seconds: SqlInt | None = None
    enforce_prompt_standards: bool | None = None


class PromptStandard(Wire):
    agent: str
    system_prompt: str = ""
    required_sections: list[str] = Field(default_factory=list)
    forbidden_terms: list[str] = Field(default_factory=list)
    updated_at: datetime | None = None
    updated_by: str | None = None


class PromptStandardUpsert(Request):
    system_prompt: MultiLine = ""
    required_sections: list[SingleLine] = Field(default_factory=list)
    forbidden_terms: list[SingleLine] = Field(default_factory=list)


__all__ = [
    "AdminUser",
    "AgentNamespacePolicy",
    "AgentNamespacePolicyUpdate",
    "CacheAgentStats",
    "CacheInvalidate",
    "CacheInvalidated",
    "CacheStats",
    "LlmConfig",
    "LlmConfigUpdate",
    "LlmProvider",
    "LlmRoute",
    "LlmRouteUpdate",
    "ModelInfo",
    "PipelinePolicy",
    "PipelinePolicyUpdate",
    "PromptStandard",
    "PromptStandardUpsert",
    "QueueKindStats",
    "QueueStats",
    "TeamBudget",
    "TeamBudgetUpdate",
    "TeamToolConfig",
    "TeamToolConfigUpdate",
    "TokenBudget",
    "TokenBudgetUpdate",
    "UsageBucket",
    "UsageSummary",
    "UserBudget",
    "UserBudgetUpdate",
    "UserUpdate",
]
