"""Tables of the admin slice: the audit chain, settings, policies, LLM routing,
budgets, usage, the answer cache and prompt standards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from ..sqlite_guards import append_only
from . import json_column, table_of, utc_column


class AuditEventRow(SQLModel, table=True):
    """One link of the hash chain. Append-only: see ``local/sqlite_guards.py``.

    ``seq`` is the rowid (INTEGER PRIMARY KEY), so the single-column indexes below
    also serve "filter, newest first" without a compound index.
    """

    __tablename__: ClassVar[str] = "audit_events"
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    event_id: str = Field(sa_column=Column(String, unique=True, nullable=False))
    created_at: datetime = utc_column(index=True)
    actor_id: str | None = Field(default=None, index=True)
    actor: str = Field(default="", index=True)
    auth_method: str = ""
    action: str = Field(index=True)
    resource_type: str
    resource_id: str = Field(index=True)
    project_id: str | None = Field(default=None, index=True)
    request_id: str = Field(default="", index=True)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    details: dict[str, Any] = json_column(dict)
    prev_hash: str
    hash: str


class AdminSettingRow(SQLModel, table=True):
    """Singleton settings documents by key ("pipeline_policy", "llm_config", "token_budget")."""

    __tablename__: ClassVar[str] = "admin_settings"
    key: str = Field(primary_key=True)
    value: dict[str, Any] = json_column(dict)
    updated_at: datetime = utc_column()
    updated_by: str | None = None


class AgentNamespacePolicyRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "agent_namespace_policies"
    agent: str = Field(primary_key=True)
    read: list[str] = json_column(list)
    write: list[str] = json_column(list)
    updated_at: datetime = utc_column()
    updated_by: str | None = None


class TeamToolConfigRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "team_tool_configs"
    team: str = Field(primary_key=True)
    allowed_agents: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    allowed_tools: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_at: datetime = utc_column()
    updated_by: str | None = None


class LlmRouteRow(SQLModel, table=True):
    """Model routing per agent ("*" = default). The secret is never here: only where it is."""

    __tablename__: ClassVar[str] = "llm_routes"
    agent: str = Field(primary_key=True)
    provider: str = "builtin"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    secret_in_keyring: bool = False
    updated_at: datetime = utc_column()


class TokenBudgetRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "token_budgets"
    scope: str = Field(primary_key=True)  # "team" | "user"
    subject: str = Field(primary_key=True)  # team name or user id
    daily_tokens: int


class LlmUsageDailyRow(SQLModel, table=True):
    """Tokens by UTC day, agent, team and user, summed from ``agent.run_completed`` events."""

    __tablename__: ClassVar[str] = "llm_usage_daily"
    day: str = Field(primary_key=True)  # YYYY-MM-DD
    agent: str = Field(primary_key=True)
    team: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)  # "" for the command line
    tokens_in: int = 0
    tokens_out: int = 0
    runs: int = 0
    cached_runs: int = 0


class AnswerCacheRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "answer_cache"
    key: str = Field(primary_key=True)  # sha256 of (normalised prompt, agent, scope, data version)
    agent: str = Field(index=True)
    project_id: str | None = Field(default=None, index=True)
    user_id: str | None = None  # answers without a project are personal
    data_version: str
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))
    model: str = "builtin"
    sources: list[str] = json_column(list)
    data: dict[str, Any] = json_column(dict)
    bytes: int = 0
    created_at: datetime = utc_column()
    expires_at: datetime = utc_column(index=True)


class AnswerCacheCounterRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "answer_cache_counters"
    agent: str = Field(primary_key=True)
    hits: int = 0
    misses: int = 0


class DataVersionRow(SQLModel, table=True):
    """The last data-changing event per project ("*" = anywhere): the cache's data version."""

    __tablename__: ClassVar[str] = "data_versions"
    scope: str = Field(primary_key=True)
    version: str


class PromptStandardRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "prompt_standards"
    agent: str = Field(primary_key=True)
    system_prompt: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    required_sections: list[str] = json_column(list)
    forbidden_terms: list[str] = json_column(list)
    updated_at: datetime = utc_column()
    updated_by: str | None = None


ADMIN_TABLES = (
    "audit_events", "admin_settings", "agent_namespace_policies", "team_tool_configs", "llm_routes",
    "token_budgets", "llm_usage_daily", "answer_cache", "answer_cache_counters", "data_versions",
    "prompt_standards",
)

__all__ = [
    "ADMIN_TABLES",
    "AdminSettingRow",
    "AgentNamespacePolicyRow",
    "AnswerCacheCounterRow",
    "AnswerCacheRow",
    "AuditEventRow",
    "DataVersionRow",
    "LlmRouteRow",
    "LlmUsageDailyRow",
    "PromptStandardRow",
    "TeamToolConfigRow",
    "TokenBudgetRow",
]

# Refuse UPDATE and DELETE on the chain in the database itself (SQLite triggers). Not a
# security boundary: whoever can write the file can drop a trigger and edit a row —
# which is what the chain's hashes (and /audit/integrity) are for.
append_only(table_of(AuditEventRow), with_project=False)
