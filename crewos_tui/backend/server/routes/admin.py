"""Admin automation: /api/v1/auth/users, policies, /api/v1/admin/..., /api/v1/audit/...,
/api/v1/pipeline-policy and /api/v1/prompt-standards. Every route needs the admin role
(the dependency answers 403; the service checks again)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import StreamingResponse

from ...schemas import (
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
from ...schemas.common import MAX_SQL_INT
from ..auth import AdminCaller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1", responses=AUTHED_ERRORS)
TOTAL_ROWS_HEADER = "X-Total-Rows"

Filter = Annotated[str | None, Query(max_length=200)]


# ---- users ---------------------------------------------------------------------------------------


@router.get("/auth/users", response_model=Page[AdminUser], tags=["admin"], summary="List users")
async def list_users(
    services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
    q: Annotated[str | None, Query(max_length=64, description="Part of the username.")] = None,
    role: Annotated[str | None, Query(max_length=20)] = None, team: Annotated[str | None, Query(max_length=64)] = None,
    disabled: bool | None = None, locked: bool | None = None,
) -> Page[AdminUser]:
    return await services.admin.list_users(principal, limit=limit, cursor=cursor, q=q, role=role, team=team,
                                           disabled=disabled, locked=locked)


@router.patch("/auth/users/{user_id}", response_model=AdminUser, tags=["admin"],
              summary="Update a user account")
async def update_user(user_id: str, body: UserUpdate, services: ServicesDep, principal: AdminCaller) -> AdminUser:
    return await services.admin.update_user(principal, user_id, body)


@router.post("/auth/users/{user_id}/unlock", response_model=AdminUser, tags=["admin"],
             summary="Unlock a user account")
async def unlock_user(user_id: str, services: ServicesDep, principal: AdminCaller) -> AdminUser:
    return await services.admin.unlock_user(principal, user_id)


# ---- agent namespace policies and team tool configs ------------------------------------------------


@router.get("/auth/agent-namespace-policies", response_model=Page[AgentNamespacePolicy], tags=["admin"],
            summary="List agent namespace policies")
async def list_agent_namespace_policies(
    services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[AgentNamespacePolicy]:
    return await services.admin.list_agent_namespace_policies(principal, limit=limit, cursor=cursor)


@router.put("/auth/agent-namespace-policies/{agent_name}", response_model=AgentNamespacePolicy,
            tags=["admin"], summary="Update an agent namespace policy")
async def update_agent_namespace_policy(
    agent_name: str, body: AgentNamespacePolicyUpdate, services: ServicesDep, principal: AdminCaller
) -> AgentNamespacePolicy:
    return await services.admin.update_agent_namespace_policy(principal, agent_name, body)


@router.get("/auth/tool-config", response_model=Page[TeamToolConfig], tags=["admin"],
            summary="List team tool configs")
async def list_tool_configs(
    services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[TeamToolConfig]:
    return await services.admin.list_tool_configs(principal, limit=limit, cursor=cursor)


@router.put("/auth/tool-config/{team_id}", response_model=TeamToolConfig, tags=["admin"],
            summary="Update a team tool config")
async def update_tool_config(
    team_id: str, body: TeamToolConfigUpdate, services: ServicesDep, principal: AdminCaller
) -> TeamToolConfig:
    return await services.admin.update_tool_config(principal, team_id, body)


# ---- LLM config, catalog, token budget, usage -------------------------------------------------------


@router.get("/admin/llm-config", response_model=LlmConfig, tags=["admin"], summary="Read model routing configuration")
async def get_llm_config(services: ServicesDep, principal: AdminCaller) -> LlmConfig:
    return await services.admin.get_llm_config(principal)


@router.put("/admin/llm-config", response_model=LlmConfig, tags=["admin"],
            summary="Update model routing configuration (an endpoint key goes to the OS keyring)")
async def update_llm_config(body: LlmConfigUpdate, services: ServicesDep, principal: AdminCaller) -> LlmConfig:
    return await services.admin.update_llm_config(principal, body)


@router.get("/admin/llm-config/catalog", response_model=Page[ModelInfo], tags=["admin"],
            summary="List model catalog metadata")
async def list_model_catalog(
    services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[ModelInfo]:
    return await services.admin.list_model_catalog(principal, limit=limit, cursor=cursor)


@router.get("/admin/llm-config/token-budget", response_model=TokenBudget, tags=["admin"],
            summary="Read token-budget controls")
async def get_token_budget(services: ServicesDep, principal: AdminCaller) -> TokenBudget:
    return await services.admin.get_token_budget(principal)


@router.put("/admin/llm-config/token-budget", response_model=TokenBudget, tags=["admin"],
            summary="Update token-budget controls")
async def update_token_budget(body: TokenBudgetUpdate, services: ServicesDep, principal: AdminCaller) -> TokenBudget:
    return await services.admin.update_token_budget(principal, body)


@router.get("/admin/llm-usage/summary", response_model=UsageSummary, tags=["admin"],
            summary="Read LLM usage summary")
async def llm_usage_summary(
    services: ServicesDep, principal: AdminCaller,
    days: Annotated[int, Query(le=MAX_SQL_INT, description="UTC days back, today included (1-366).")] = 7,
    agent: Filter = None, team: Filter = None, user_id: Filter = None,
    until: Annotated[date | None, Query(description="Last UTC day of the window (default today).")] = None,
) -> UsageSummary:
    return await services.admin.llm_usage_summary(principal, days=days, agent=agent, team=team, user_id=user_id,
                                                  until=until)


# ---- cache and queue ----------------------------------------------------------------------------------


@router.get("/admin/cache", response_model=CacheStats, tags=["admin"], summary="Read semantic cache stats")
async def cache_stats(services: ServicesDep, principal: AdminCaller) -> CacheStats:
    return await services.admin.cache_stats(principal)


@router.post("/admin/cache/invalidate", response_model=CacheInvalidated, tags=["admin"],
             summary="Invalidate semantic cache entries")
async def invalidate_cache(
    services: ServicesDep, principal: AdminCaller, body: Annotated[CacheInvalidate | None, Body()] = None,
) -> CacheInvalidated:
    # No body invalidates everything.
    return await services.admin.invalidate_cache(principal, body or CacheInvalidate())


@router.get("/admin/queue/stats", response_model=QueueStats, tags=["admin"], summary="Read backend queue stats")
async def queue_stats(services: ServicesDep, principal: AdminCaller) -> QueueStats:
    return await services.admin.queue_stats(principal)


# ---- audit --------------------------------------------------------------------------------------------


@router.get("/audit/events", response_model=Page[AuditEvent], tags=["audit"], summary="List audit events")
async def list_audit_events(
    services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
    actor: Filter = None, action: Filter = None, resource_type: Filter = None, resource_id: Filter = None,
    project_id: Filter = None, request_id: Filter = None, since: datetime | None = None, until: datetime | None = None,
) -> Page[AuditEvent]:
    return await services.admin.list_audit_events(
        principal, limit=limit, cursor=cursor, actor=actor, action=action, resource_type=resource_type,
        resource_id=resource_id, project_id=project_id, request_id=request_id, since=since, until=until)


async def _encoded(stream: AuditCsvStream) -> AsyncIterator[bytes]:
    try:
        async for chunk in stream:
            yield chunk.encode("utf-8")
    finally:
        await stream.aclose()


@router.get("/audit/events/export.csv", response_class=StreamingResponse, tags=["audit"],
            responses={200: {"content": {"text/csv": {}}, "description": "The events as CSV, oldest first."}},
            summary="Export audit events as CSV")
async def export_audit_csv(
    services: ServicesDep, principal: AdminCaller,
    actor: Filter = None, action: Filter = None, resource_type: Filter = None, resource_id: Filter = None,
    project_id: Filter = None, request_id: Filter = None, since: datetime | None = None, until: datetime | None = None,
) -> StreamingResponse:
    # The service checks and counts before the first byte, so refusals are still proper errors.
    stream = await services.admin.export_audit_csv(
        principal, actor=actor, action=action, resource_type=resource_type, resource_id=resource_id,
        project_id=project_id, request_id=request_id, since=since, until=until)
    return StreamingResponse(_encoded(stream), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit-events.csv"',
        TOTAL_ROWS_HEADER: str(stream.total_rows),
    })


@router.get("/audit/integrity", response_model=AuditIntegrity, tags=["audit"], summary="Verify audit-log integrity")
async def audit_integrity(services: ServicesDep, principal: AdminCaller) -> AuditIntegrity:
    return await services.admin.audit_integrity(principal)


# ---- pipeline policy and prompt standards ----------------------------------------------------------------


@router.get("/pipeline-policy", response_model=PipelinePolicy, tags=["admin"],
            summary="Read default pipeline policy")
async def get_pipeline_policy(services: ServicesDep, principal: AdminCaller) -> PipelinePolicy:
    return await services.admin.get_pipeline_policy(principal)


@router.put("/pipeline-policy", response_model=PipelinePolicy, tags=["admin"],
            summary="Update default pipeline policy")
async def update_pipeline_policy(
    body: PipelinePolicyUpdate, services: ServicesDep, principal: AdminCaller
) -> PipelinePolicy:
    return await services.admin.update_pipeline_policy(principal, body)


@router.get("/prompt-standards", response_model=Page[PromptStandard], tags=["admin"],
            summary="List prompt standards")
async def list_prompt_standards(
    services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[PromptStandard]:
    return await services.admin.list_prompt_standards(principal, limit=limit, cursor=cursor)


@router.put("/prompt-standards/{agent_name}", response_model=PromptStandard, tags=["admin"],
            summary="Upsert a prompt standard")
async def upsert_prompt_standard(
    agent_name: str, body: PromptStandardUpsert, services: ServicesDep, principal: AdminCaller
) -> PromptStandard:
    return await services.admin.upsert_prompt_standard(principal, agent_name, body)
