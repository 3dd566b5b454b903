"""What the Backend offers admins: users, policies, LLM routing and budgets, the answer
cache, queue stats, the audit log, pipeline policy and prompt standards.

Every method needs the admin role (``Forbidden`` otherwise).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from ..schemas import (
    AdminUser,
    AgentNamespacePolicy,
    AgentNamespacePolicyUpdate,
    AuditCsvStream,
    AuditEvent,
    AuditIntegrity,
    CacheInvalidate,
    CacheInvalidated,
    CacheStats,
    LlmConfig,
    LlmConfigUpdate,
    ModelInfo,
    Page,
    PipelinePolicy,
    PipelinePolicyUpdate,
    PromptStandard,
    PromptStandardUpsert,
    QueueStats,
    TeamToolConfig,
    TeamToolConfigUpdate,
    TokenBudget,
    TokenBudgetUpdate,
    UsageSummary,
    UserUpdate,
)
from ..schemas.common import DEFAULT_LIMIT


class AdminAPI(Protocol):
    # ---- users ------------------------------------------------------------------------
    async def list_users(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        q: str | None = None,
        role: str | None = None,
        team: str | None = None,
        disabled: bool | None = None,
        locked: bool | None = None,
    ) -> Page[AdminUser]:
        """Users in creation order, filtered by part of the username, role, team, disabled, locked."""
        ...

    async def update_user(self, user_id: str, data: UserUpdate) -> AdminUser:
        """Change a user's role, team, disabled flag and/or namespace grants."""
        ...

    async def unlock_user(self, user_id: str) -> AdminUser:
        """End a sign-in throttle after wrong passwords (and reset the failure count)."""
        ...

    # ---- policies ---------------------------------------------------------------------
    async def list_agent_namespace_policies(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[AgentNamespacePolicy]:
        """Which knowledge namespaces each agent may read and write."""
        ...

    async def update_agent_namespace_policy(
        self, agent_name: str, data: AgentNamespacePolicyUpdate
    ) -> AgentNamespacePolicy:
        """Replace an agent's namespace patterns."""
        ...

    async def list_tool_configs(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[TeamToolConfig]:
        """Which agents and tools each team may use."""
        ...

    async def update_tool_config(self, team_id: str, data: TeamToolConfigUpdate) -> TeamToolConfig:
        """Set a team's allowed agents and tools (None = all)."""
        ...

    # ---- LLM config, catalog, budgets, usage -------------------------------------------
    async def get_llm_config(self) -> LlmConfig:
        """Model routes per agent and cache options (never a secret)."""
        ...

    async def update_llm_config(self, data: LlmConfigUpdate) -> LlmConfig:
        """Replace routes and/or change options; an endpoint key goes to the OS keyring."""
        ...

    async def list_model_catalog(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ModelInfo]:
        """Known models with metadata and the agents routed to each."""
        ...

    async def get_token_budget(self) -> TokenBudget:
        """Daily token limits per team and per user."""
        ...

    async def update_token_budget(self, data: TokenBudgetUpdate) -> TokenBudget:
        """Change the daily token limits (negative amounts are refused)."""
        ...

    async def llm_usage_summary(
        self, days: int = 7, agent: str | None = None, team: str | None = None, user_id: str | None = None,
        until: date | None = None,
    ) -> UsageSummary:
        """Tokens in/out and runs by day, agent, team and user over ``days`` UTC days ending
        ``until`` (default today)."""
        ...

    # ---- cache and queue ---------------------------------------------------------------
    async def cache_stats(self) -> CacheStats:
        """Semantic cache entries, bytes, hits, misses and hit rate."""
        ...

    async def invalidate_cache(self, data: CacheInvalidate) -> CacheInvalidated:
        """Drop cached answers: all, by agent and/or by project."""
        ...

    async def queue_stats(self) -> QueueStats:
        """Agent jobs by state and kind, oldest queued age, runner heartbeat."""
        ...

    # ---- audit -------------------------------------------------------------------------
    async def list_audit_events(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        project_id: str | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEvent]:
        """Audit events, newest first; ``action`` ending in ``*`` or ``.`` matches a prefix."""
        ...

    async def export_audit_csv(
        self,
        actor: str | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        project_id: str | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AuditCsvStream:
        """The matching events as CSV text chunks, oldest first, streamed."""
        ...

    async def audit_integrity(self) -> AuditIntegrity:
        """Re-verify the hash chain: valid, events checked, first invalid seq, head hash."""
        ...

    # ---- pipeline policy and prompt standards -------------------------------------------
    async def get_pipeline_policy(self) -> PipelinePolicy:
        """The default pipeline policy."""
        ...

    async def update_pipeline_policy(self, data: PipelinePolicyUpdate) -> PipelinePolicy:
        """Change pipeline policy fields (422 naming a field out of range)."""
        ...

    async def list_prompt_standards(self, limit: int = DEFAULT_LIMIT,
                                    cursor: str | None = None) -> Page[PromptStandard]:
        """Every agent's prompt standard."""
        ...

    async def upsert_prompt_standard(self, agent_name: str, data: PromptStandardUpsert) -> PromptStandard:
        """Create or replace an agent's prompt standard."""
        ...
