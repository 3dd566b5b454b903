"""The admin slice's rules in the service layer, where the contract cannot see them:
the pipeline policy on task runs, the budget guard, the answer cache's key and data
versions, namespace and tool rules, prompt-standard checks, the LLM router's keys,
and the migration that brings the audit log to an older database."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from crewos_tui.backend import errors
from crewos_tui.backend.local.agents.runtime import run_agent
from crewos_tui.backend.local.jobs import JobRunner
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.admin.budget import estimate_tokens
from crewos_tui.backend.local.services.admin.cache import (
    cache_key,
    data_version,
    normalise_prompt,
)
from crewos_tui.backend.local.services.admin.llm import llm_route_for
from crewos_tui.backend.local.services.admin.pipeline import check_against_standard
from crewos_tui.backend.local.services.admin.policies import (
    agent_may_access,
    team_may_use,
)
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import (
    AgentNamespacePolicyUpdate,
    LlmConfigUpdate,
    LlmRouteUpdate,
    PipelinePolicyUpdate,
    ProjectCreate,
    ProjectUpdate,
    PromptStandard,
    TeamToolConfigUpdate,
    TokenBudgetUpdate,
    UserBudgetUpdate,
)
from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate
from crewos_tui.backend.schemas.tasks import TaskCreate

from .conftest import fast_settings

SYSTEM = Principal.system()


async def member(services, make_user, team: str = "default") -> Principal:
    user, _ = await make_user(team=team)
    return await services.auth.principal_for(user.username)


# ---- pipeline policy on task runs -------------------------------------------------------------------------


@pytest.mark.parametrize(("require_review", "final"), [(True, "review"), (False, "done")])
async def test_task_runs_follow_the_pipeline_policy(services, make_user, require_review, final):
    await services.admin.update_pipeline_policy(SYSTEM, PipelinePolicyUpdate(require_review=require_review))
    me = await member(services, make_user)
    project = await services.projects.create(me, ProjectCreate(name="Policy"))
    task = await services.tasks.create(me, TaskCreate(project_id=project.id, title="Write the summary"))
    await services.agent_jobs.create(me, AgentJobCreate(kind="task_run", task_id=task.id))
    assert await JobRunner(services, owner="test").run_one()
    detail = await services.tasks.get(me, task.id)
    assert str(getattr(detail.status, "value", detail.status)) == final


# ---- budgets -----------------------------------------------------------------------------------------------


async def test_budget_guard_counts_the_prompt_and_spares_the_command_line(services, make_user):
    me = await member(services, make_user)
    await services.admin.update_token_budget(SYSTEM, TokenBudgetUpdate(
        users=[UserBudgetUpdate(user_id=me.user_id, daily_tokens=estimate_tokens("one two three") - 1)]))
    with pytest.raises(errors.RateLimited, match="needs about 4") as refused:
        await run_agent(services.ctx, None, me, "helper", "one two three")
    assert 0 < refused.value.retry_after <= 86_400  # until 00:00 UTC
    assert (await run_agent(services.ctx, None, SYSTEM, "helper", "one two three")).text  # not budgeted
    assert estimate_tokens("") == 0 and estimate_tokens("a b c") == 4


# ---- the answer cache ---------------------------------------------------------------------------------------


def test_prompts_are_normalised_before_keying():
    assert normalise_prompt("  Prepare   the PROJECT update?! ") == "prepare the project update"
    assert normalise_prompt("ｐｒｅｐａｒｅ") == "prepare"  # NFKC: full-width letters
    assert cache_key("Hi there", "helper", "p1", "v1") == cache_key("hi  there!", "helper", "p1", "v1")
    assert cache_key("hi", "helper", "p1", "v1") != cache_key("hi", "reporter", "p1", "v1")
    assert cache_key("hi", "helper", "p1", "v1") != cache_key("hi", "helper", "p1", "v2")


async def test_data_versions_move_with_data_changes_only(services, make_user):
    me = await member(services, make_user)
    project = await services.projects.create(me, ProjectCreate(name="Versioned"))
    async with services.ctx.db.read() as s:
        v1 = await data_version(s, project.id)
    await run_agent(services.ctx, None, me, "reporter", "status", project_id=project.id)  # talking: no change
    async with services.ctx.db.read() as s:
        assert await data_version(s, project.id) == v1 != "0"
    await services.projects.update(me, project.id, ProjectUpdate(description="new"))
    async with services.ctx.db.read() as s:
        assert await data_version(s, project.id) != v1


async def test_cache_answers_are_personal_without_a_project_and_expire(services, make_user):
    await services.admin.update_llm_config(SYSTEM, LlmConfigUpdate(cache_enabled=True, cache_ttl_seconds=60))
    alice, bob = await member(services, make_user), await member(services, make_user)
    first = await run_agent(services.ctx, None, alice, "helper", "What is waiting for me?")
    assert not first.cached
    assert (await run_agent(services.ctx, None, alice, "helper", "what is waiting for me")).cached
    assert not (await run_agent(services.ctx, None, bob, "helper", "What is waiting for me?")).cached
    cache = services.ctx.answer_cache
    async with services.ctx.db.read() as s:
        assert await cache.get(s, alice, agent="helper", prompt="What is waiting for me?") is not None
    real = services.ctx.clock

    class Later:  # two minutes on: past the 60 s TTL
        def now(self) -> datetime:
            return real.now() + timedelta(minutes=2)

    services.ctx.clock = Later()
    async with services.ctx.db.read() as s:
        assert await cache.get(s, alice, agent="helper", prompt="What is waiting for me?") is None


async def test_the_cache_keeps_nothing_when_switched_off(services, make_user):
    me = await member(services, make_user)
    for _ in range(2):
        assert not (await run_agent(services.ctx, None, me, "helper", "hello")).cached
    stats = await services.admin.cache_stats(SYSTEM)
    assert (stats.entries, stats.hits, stats.misses) == (0, 0, 0)


# ---- namespace policies, team tool configs, prompt standards ---------------------------------------------------


async def test_namespace_policy_patterns(services):
    async with services.ctx.db.read() as s:
        assert await agent_may_access(s, "planner", "anything", "write")  # no policy: not restricted
    await services.admin.update_agent_namespace_policy(SYSTEM, "planner", AgentNamespacePolicyUpdate(
        read=["project:*", "playbooks"], write=["drafts/*"]))
    async with services.ctx.db.read() as s:
        assert await agent_may_access(s, "planner", "project:atlas")
        assert await agent_may_access(s, "planner", "playbooks")
        assert not await agent_may_access(s, "planner", "playbooks/secret")
        assert not await agent_may_access(s, "planner", "project:atlas", "write")
        assert await agent_may_access(s, "planner", "drafts/x", "write")


async def test_team_tool_config_rules(services, make_user):
    await member(services, make_user, team="crew")
    await services.admin.update_tool_config(SYSTEM, "crew", TeamToolConfigUpdate(allowed_agents=["helper"],
                                                                                allowed_tools=[]))
    async with services.ctx.db.read() as s:
        assert await team_may_use(s, "crew", agent="helper")
        assert not await team_may_use(s, "crew", agent="planner")
        assert not await team_may_use(s, "crew", tool="anything")  # an empty list allows none
        assert await team_may_use(s, "other", agent="planner")  # no config: everything


def test_outputs_are_checked_against_a_prompt_standard():
    standard = PromptStandard(agent="reporter", required_sections=["Summary", "Risks"],
                              forbidden_terms=["guaranteed", "risk-free"])
    text = "# Summary\nAll good, guaranteed.\n\nNext steps: none."
    assert check_against_standard(text, standard) == ["missing section: Risks", "forbidden term: guaranteed"]
    assert check_against_standard("## summary:\n## RISKS\nnone", standard) == []
    assert check_against_standard("ungaranteed outcomes", PromptStandard(agent="x", forbidden_terms=["garanteed"])) \
        == []


# ---- the LLM router ---------------------------------------------------------------------------------------------


async def test_router_prefers_the_environment_key_and_falls_back_to_settings(services, monkeypatch):
    async with services.ctx.db.read() as s:
        assert await llm_route_for(services.ctx, s, SYSTEM, "helper") is None  # nothing configured
    services.ctx.settings.llm_base_url, services.ctx.settings.llm_model = "http://127.0.0.1:9/v1", "profile-model"
    monkeypatch.setenv("CREWOS_LLM_API_KEY", "from-profile-env")
    async with services.ctx.db.read() as s:
        endpoint = await llm_route_for(services.ctx, s, SYSTEM, "helper")
    assert (endpoint.model, endpoint.api_key) == ("profile-model", "from-profile-env")
    await services.admin.update_llm_config(SYSTEM, LlmConfigUpdate(routes=[LlmRouteUpdate(
        agent="helper", provider="openai_compatible", base_url="http://127.0.0.1:9/v1", model="routed",
        api_key_env="ADMIN_TEST_KEY")], request_timeout_seconds=5))
    monkeypatch.setenv("ADMIN_TEST_KEY", "from-route-env")
    async with services.ctx.db.read() as s:
        endpoint = await llm_route_for(services.ctx, s, SYSTEM, "helper")
        assert (endpoint.model, endpoint.api_key, endpoint.timeout) == ("routed", "from-route-env", 5.0)
        assert (await llm_route_for(services.ctx, s, SYSTEM, "planner")).model == "profile-model"
    await services.admin.update_llm_config(SYSTEM, LlmConfigUpdate(routes=[LlmRouteUpdate(agent="*")]))
    async with services.ctx.db.read() as s:
        assert await llm_route_for(services.ctx, s, SYSTEM, "planner") is None  # "*": built-in wins


# ---- migration -------------------------------------------------------------------------------------------------


def admin_step(migrations: list) -> int:
    """The index of the migration step that adds the admin tables (later steps may follow)."""
    for i, step in enumerate(migrations):
        names = [c.cell_contents for c in (step.__closure__ or ()) if isinstance(c.cell_contents, tuple)]
        if any("audit_events" in n for n in names):
            return i
    raise AssertionError("no migration step adds audit_events")


async def test_a_database_from_before_the_admin_slice_gets_its_tables_and_triggers(tmp_path: Path):
    from crewos_tui.backend.local import db as dbmod

    path = tmp_path / "old.db"
    services = await Services.open(path, settings=fast_settings())
    await services.close()
    raw = sqlite3.connect(path)
    for table in ("audit_events", "admin_settings", "agent_namespace_policies", "team_tool_configs", "llm_routes",
                  "token_budgets", "llm_usage_daily", "answer_cache", "answer_cache_counters", "data_versions",
                  "prompt_standards"):
        raw.execute(f"DROP TABLE {table}")  # the triggers go with the audit table
    raw.execute(f"PRAGMA user_version = {admin_step(dbmod.MIGRATIONS) + 1}")  # just before the admin step
    raw.commit()
    raw.close()
    services = await Services.open(path, settings=fast_settings())
    try:
        async with services.ctx.db.read() as s:
            triggers = set((await s.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))).scalars())
        assert {"audit_events_no_update", "audit_events_no_delete"} <= triggers
        assert await services.ctx.db.schema_version() == dbmod.SCHEMA_VERSION
        assert (await services.admin.audit_integrity(SYSTEM)).valid
    finally:
        await services.close()
