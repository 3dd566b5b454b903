"""Admin automation over HTTP: users, policies, LLM config, budgets, usage, cache,
queue, audit (with a streamed CSV export), pipeline policy, prompt standards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import Unavailable
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
from .http import API, as_model, as_page, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


def _filters(**values: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in values.items() if v is not None}


def _body(model: Any, *, unset: bool = True) -> Any:
    # exclude_unset: a partial update sends only what the caller set. Secrets (SecretStr)
    # are revealed here on purpose: the server stores them in its OS keyring.
    data = model.model_dump(mode="json", exclude_unset=unset, warnings=False)
    if isinstance(model, LlmConfigUpdate) and model.routes is not None:
        for out, route in zip(data.get("routes") or [], model.routes, strict=False):
            if route.api_key is not None:
                out["api_key"] = route.api_key.get_secret_value()
    return data


class RemoteAdmin:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    # ---- users ----------------------------------------------------------------------------

    async def list_users(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, q: str | None = None, role: str | None = None,
        team: str | None = None, disabled: bool | None = None, locked: bool | None = None,
    ) -> Page[AdminUser]:
        params = paging(limit, cursor, **_filters(q=q, role=role, team=team))
        for name, flag in (("disabled", disabled), ("locked", locked)):
            if flag is not None:
                params[name] = "true" if flag else "false"
        return as_page(AdminUser, await self._b.request("GET", f"{API}/auth/users", params=params))

    async def update_user(self, user_id: str, data: UserUpdate) -> AdminUser:
        payload = await self._b.request("PATCH", f"{API}/auth/users/{seg(user_id)}", json=_body(data))
        return as_model(AdminUser, payload)

    async def unlock_user(self, user_id: str) -> AdminUser:
        return as_model(AdminUser, await self._b.request("POST", f"{API}/auth/users/{seg(user_id)}/unlock"))

    # ---- policies -------------------------------------------------------------------------

    async def list_agent_namespace_policies(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[AgentNamespacePolicy]:
        payload = await self._b.request("GET", f"{API}/auth/agent-namespace-policies", params=paging(limit, cursor))
        return as_page(AgentNamespacePolicy, payload)

    async def update_agent_namespace_policy(
        self, agent_name: str, data: AgentNamespacePolicyUpdate
    ) -> AgentNamespacePolicy:
        payload = await self._b.request("PUT", f"{API}/auth/agent-namespace-policies/{seg(agent_name)}",
                                        json=_body(data, unset=False))
        return as_model(AgentNamespacePolicy, payload)

    async def list_tool_configs(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[TeamToolConfig]:
        payload = await self._b.request("GET", f"{API}/auth/tool-config", params=paging(limit, cursor))
        return as_page(TeamToolConfig, payload)

    async def update_tool_config(self, team_id: str, data: TeamToolConfigUpdate) -> TeamToolConfig:
        payload = await self._b.request("PUT", f"{API}/auth/tool-config/{seg(team_id)}",
                                        json=_body(data, unset=False))
        return as_model(TeamToolConfig, payload)

    # ---- LLM config, catalog, budgets, usage ------------------------------------------------

    async def get_llm_config(self) -> LlmConfig:
        return as_model(LlmConfig, await self._b.request("GET", f"{API}/admin/llm-config"))

    async def update_llm_config(self, data: LlmConfigUpdate) -> LlmConfig:
        return as_model(LlmConfig, await self._b.request("PUT", f"{API}/admin/llm-config", json=_body(data)))

    async def list_model_catalog(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ModelInfo]:
        payload = await self._b.request("GET", f"{API}/admin/llm-config/catalog", params=paging(limit, cursor))
        return as_page(ModelInfo, payload)

    async def get_token_budget(self) -> TokenBudget:
        return as_model(TokenBudget, await self._b.request("GET", f"{API}/admin/llm-config/token-budget"))

    async def update_token_budget(self, data: TokenBudgetUpdate) -> TokenBudget:
        payload = await self._b.request("PUT", f"{API}/admin/llm-config/token-budget", json=_body(data))
        return as_model(TokenBudget, payload)

    async def llm_usage_summary(
        self, days: int = 7, agent: str | None = None, team: str | None = None, user_id: str | None = None,
        until: date | None = None,
    ) -> UsageSummary:
        params = _filters(days=days, agent=agent, team=team, user_id=user_id, until=until)
        return as_model(UsageSummary, await self._b.request("GET", f"{API}/admin/llm-usage/summary", params=params))

    # ---- cache and queue ----------------------------------------------------------------------

    async def cache_stats(self) -> CacheStats:
        return as_model(CacheStats, await self._b.request("GET", f"{API}/admin/cache"))

    async def invalidate_cache(self, data: CacheInvalidate) -> CacheInvalidated:
        payload = await self._b.request("POST", f"{API}/admin/cache/invalidate", json=_body(data))
        return as_model(CacheInvalidated, payload)

    async def queue_stats(self) -> QueueStats:
        return as_model(QueueStats, await self._b.request("GET", f"{API}/admin/queue/stats"))

    # ---- audit ----------------------------------------------------------------------------------

    async def list_audit_events(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, actor: str | None = None,
        action: str | None = None, resource_type: str | None = None, resource_id: str | None = None,
        project_id: str | None = None, request_id: str | None = None, since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEvent]:
        params = paging(limit, cursor, **_filters(
            actor=actor, action=action, resource_type=resource_type, resource_id=resource_id,
            project_id=project_id, request_id=request_id, since=since, until=until))
        return as_page(AuditEvent, await self._b.request("GET", f"{API}/audit/events", params=params))

    async def export_audit_csv(
        self, actor: str | None = None, action: str | None = None, resource_type: str | None = None,
        resource_id: str | None = None, project_id: str | None = None, request_id: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> AuditCsvStream:
        """Open the CSV download; the answer's body is read as it is iterated, never whole."""
        params = {k: str(v) for k, v in _filters(
            actor=actor, action=action, resource_type=resource_type, resource_id=resource_id,
            project_id=project_id, request_id=request_id, since=since, until=until).items()}
        # The transport's own client and credential, but a streamed answer (request() reads JSON whole).
        client = self._b.httpx_client  # the same package's transport
        headers = {**self._b.credential_headers("any"), "Accept": "text/csv"}
        request = client.build_request("GET", f"{API}/audit/events/export.csv", params=params, headers=headers)
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise Unavailable(f"cannot reach {self._b.base_url}: no answer within {self._b.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach {self._b.base_url}: {str(exc) or exc.__class__.__name__}") from None
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise self._b.error_for(response)
        try:
            total = int(response.headers.get("x-total-rows", "-1"))
        except ValueError:
            total = -1  # a server that does not say: progress shows rows written only

        async def chunks() -> AsyncIterator[str]:
            async for text in response.aiter_text():
                if text:
                    yield text

        return AuditCsvStream(total, chunks(), on_close=response.aclose)

    async def audit_integrity(self) -> AuditIntegrity:
        return as_model(AuditIntegrity, await self._b.request("GET", f"{API}/audit/integrity"))

    # ---- pipeline policy and prompt standards --------------------------------------------------

    async def get_pipeline_policy(self) -> PipelinePolicy:
        return as_model(PipelinePolicy, await self._b.request("GET", f"{API}/pipeline-policy"))

    async def update_pipeline_policy(self, data: PipelinePolicyUpdate) -> PipelinePolicy:
        return as_model(PipelinePolicy, await self._b.request("PUT", f"{API}/pipeline-policy", json=_body(data)))

    async def list_prompt_standards(self, limit: int = DEFAULT_LIMIT,
                                    cursor: str | None = None) -> Page[PromptStandard]:
        payload = await self._b.request("GET", f"{API}/prompt-standards", params=paging(limit, cursor))
        return as_page(PromptStandard, payload)

    async def upsert_prompt_standard(self, agent_name: str, data: PromptStandardUpsert) -> PromptStandard:
        payload = await self._b.request("PUT", f"{API}/prompt-standards/{seg(agent_name)}",
                                        json=_body(data, unset=False))
        return as_model(PromptStandard, payload)
