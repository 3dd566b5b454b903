"""Demo data of the admin slice: budgets, policies, a prompt standard, a user with
failed logins to unlock, and a warm answer cache (switched off again, so other
screens' demo chats answer fresh).

Agent runs here have no project, so no project's data or activity changes; the
audit log needs no seeding — every demo change above is already in it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..errors import Unauthorized
from ..principal import Principal
from ..schemas import (
    AgentNamespacePolicyUpdate,
    LlmConfigUpdate,
    LlmRouteUpdate,
    PipelinePolicyUpdate,
    PromptStandardUpsert,
    TeamBudgetUpdate,
    TeamToolConfigUpdate,
    TokenBudgetUpdate,
    UserBudgetUpdate,
)
from ..schemas.admin import LlmProvider


async def _seed_admin(svc: Any, as_: dict[str, Any], users: dict[str, Any], projects: dict[str, Any]) -> None:
    maya = as_["maya"]
    admin = svc.admin
    await admin.update_token_budget(maya, TokenBudgetUpdate(
        team_daily_default=500_000, user_daily_default=50_000,
        teams=[TeamBudgetUpdate(team="studio", daily_tokens=200_000)],
        users=[UserBudgetUpdate(user_id=users["sam"].id, daily_tokens=5_000)]))
    await admin.update_pipeline_policy(maya, PipelinePolicyUpdate(validation_threshold=75, max_retries=2))
    await admin.upsert_prompt_standard(maya, "reporter", PromptStandardUpsert(
        system_prompt="Write for the steering group: facts first, no speculation.",
        required_sections=["Summary", "Risks", "Next steps"], forbidden_terms=["guaranteed", "risk-free"]))
    await admin.update_agent_namespace_policy(maya, "planner", AgentNamespacePolicyUpdate(
        read=["project:*", "playbooks"], write=[]))
    await admin.update_tool_config(maya, "field", TeamToolConfigUpdate(allowed_agents=["helper", "reporter"]))

    # A warm cache: the same question twice (a miss, then a hit).
    from .agents.runtime import run_agent

    await admin.update_llm_config(maya,
                                  LlmConfigUpdate(routes=[LlmRouteUpdate(agent="*", provider=LlmProvider.builtin)],
                                                        cache_enabled=True))
    for _ in range(2):
        await run_agent(svc.ctx, None, maya, "helper", "What can you do?")
    await admin.update_llm_config(maya, LlmConfigUpdate(cache_enabled=False))

    # Lee mistyped a password twice: the counter shows, and an admin can reset it.
    for _ in range(2):
        with contextlib.suppress(Unauthorized):
            await svc.auth.login(Principal.anonymous(), "lee", "not lee's password")
