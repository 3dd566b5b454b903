"""Prompt standards, namespace policies and the pipeline policy where they apply: built-in
answers, model instructions, the answer cache, the helper's knowledge lookups, task runs
that would skip review, validation, and the job runner's retries and timeout."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from crewos_tui.backend.local.agents import llm
from crewos_tui.backend.local.agents.runtime import run_agent
from crewos_tui.backend.local.jobs import JobRunner, register_job_kind
from crewos_tui.backend.local.services.admin.pipeline import POLICY_DEFAULTS, POLICY_KEY
from crewos_tui.backend.local.services.admin.settings_store import (
    load_setting,
    save_setting,
)
from crewos_tui.backend.local.services.tasks.worker import register_worker_agent
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import (
    AgentNamespacePolicyUpdate,
    KnowledgeEntryCreate,
    LlmConfigUpdate,
    PipelinePolicyUpdate,
    ProjectCreate,
    PromptStandardUpsert,
    ValidationRequest,
)
from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate
from crewos_tui.backend.schemas.tasks import TaskCreate

SYSTEM = Principal.system()


async def member(services, make_user) -> Principal:
    info, _ = await make_user()
    return await services.auth.principal_for(info.username)


async def test_built_in_answers_gain_the_required_sections_and_report_findings(services, make_user):
    me = await member(services, make_user)
    plain = await run_agent(services.ctx, None, me, "helper", "What can you do?")
    assert "## Risks" not in plain.text and "prompt_standard" not in plain.data
    await services.admin.upsert_prompt_standard(SYSTEM, "helper", PromptStandardUpsert(
        required_sections=["Risks"], forbidden_terms=["workbench"]))
    shaped = await run_agent(services.ctx, None, me, "helper", "What can you do?")
    assert shaped.text.startswith(plain.text.rstrip()) and "\n## Risks\n" in shaped.text
    assert shaped.data["prompt_standard"]["findings"] == ["forbidden term: workbench"]
    # Cleared again: answers are as before.
    await services.admin.upsert_prompt_standard(SYSTEM, "helper", PromptStandardUpsert())
    assert (await run_agent(services.ctx, None, me, "helper", "What can you do?")).text == plain.text


async def test_a_model_gets_the_standard_as_instructions(services, make_user, monkeypatch):
    me = await member(services, make_user)
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        chunk = json.dumps({"choices": [{"delta": {"content": "## Summary\nAll fine."}}]})
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=f"data: {chunk}\n\ndata: [DONE]\n\n".encode())

    monkeypatch.setattr(llm, "TRANSPORT", httpx.MockTransport(handler))
    services.ctx.settings.llm_base_url, services.ctx.settings.llm_model = "http://model.invalid/v1", "tiny"
    await services.admin.upsert_prompt_standard(SYSTEM, "reporter", PromptStandardUpsert(
        system_prompt="Facts first.", required_sections=["Summary", "Risks"], forbidden_terms=["guaranteed"]))
    answer = await run_agent(services.ctx, None, me, "reporter", "status")
    system = bodies[0]["messages"][0]["content"]
    assert "Facts first." in system and "Summary, Risks" in system and "guaranteed" in system
    assert answer.text == "## Summary\nAll fine."  # a model's answer is not rewritten, only checked
    assert answer.data["prompt_standard"]["findings"] == ["missing section: Risks"]


async def test_changing_a_standard_drops_that_agents_cached_answers(services, make_user):
    me = await member(services, make_user)
    await services.admin.update_llm_config(SYSTEM, LlmConfigUpdate(cache_enabled=True))
    await run_agent(services.ctx, None, me, "helper", "What can you do?")
    assert (await run_agent(services.ctx, None, me, "helper", "What can you do?")).cached
    await services.admin.upsert_prompt_standard(SYSTEM, "helper", PromptStandardUpsert(required_sections=["Risks"]))
    fresh = await run_agent(services.ctx, None, me, "helper", "What can you do?")
    assert not fresh.cached and "## Risks" in fresh.text


async def run_task_once(services, me: Principal, title: str) -> str:
    project = await services.projects.create(me, ProjectCreate(name="Pipeline"))
    task = await services.tasks.create(me, TaskCreate(project_id=project.id, title=title))
    await services.agent_jobs.create(me, AgentJobCreate(kind="task_run", task_id=task.id))
    assert await JobRunner(services, owner="test").run_one()
    detail = await services.tasks.get(me, task.id)
    return str(getattr(detail.status, "value", detail.status))


@pytest.mark.parametrize(("enforce", "final"), [(True, "review"), (False, "done")])
async def test_a_task_run_failing_its_standard_is_left_for_review(services, make_user, enforce, final):
    register_worker_agent()
    me = await member(services, make_user)
    await services.admin.update_pipeline_policy(SYSTEM, PipelinePolicyUpdate(
        require_review=False, enforce_prompt_standards=enforce))
    # The worker's note names the task, so a standard forbidding its words fails the output.
    await services.admin.upsert_prompt_standard(SYSTEM, "worker", PromptStandardUpsert(forbidden_terms=["zeppelin"]))
    assert await run_task_once(services, me, "Inspect the zeppelin hangar") == final


async def test_validation_without_a_rubric_uses_the_policy_and_the_agents_standard(services, make_user):
    me = await member(services, make_user)
    await services.admin.update_pipeline_policy(SYSTEM, PipelinePolicyUpdate(validation_threshold=90))
    await services.admin.upsert_prompt_standard(SYSTEM, "reporter", PromptStandardUpsert(
        required_sections=["Summary", "Risks"], forbidden_terms=["guaranteed"]))
    text = "## Summary\nThe beta is on track and the launch is guaranteed to go well.\n"
    result = await services.validation.validate(me, ValidationRequest(output=text, agent="reporter"))
    checks = {f.check.value: f for f in result.findings}
    assert result.threshold == 90 and not result.passed
    assert not checks["required_sections"].passed and not checks["forbidden_terms"].passed
    # Without an agent: the policy's threshold, the default checks only.
    plain = await services.validation.validate(me, ValidationRequest(output=text))
    assert plain.threshold == 90 and "required_sections" not in {f.check.value for f in plain.findings}
    # Standards switched off: the agent's standard is not applied.
    await services.admin.update_pipeline_policy(SYSTEM, PipelinePolicyUpdate(enforce_prompt_standards=False))
    off = await services.validation.validate(me, ValidationRequest(output=text, agent="reporter"))
    assert "required_sections" not in {f.check.value for f in off.findings}


async def test_the_helper_reads_knowledge_only_where_its_namespace_policy_allows(services, make_user):
    info, _ = await make_user(role="admin")
    admin = await services.auth.principal_for(info.username)
    await services.knowledge.create(admin, KnowledgeEntryCreate(
        namespace="airships", title="Zeppelin hangar checks", body="Check the zeppelin hangar doors weekly."))
    asked = "How do we check the zeppelin hangar?"
    answer = await run_agent(services.ctx, None, admin, "helper", asked)
    assert "## From the knowledge base" in answer.text and "Zeppelin hangar checks" in answer.text
    assert any(s.startswith("knowledge:") for s in answer.sources)
    await services.admin.update_agent_namespace_policy(SYSTEM, "helper", AgentNamespacePolicyUpdate(
        read=["handbook/*"], write=[]))
    refused = await run_agent(services.ctx, None, admin, "helper", asked)
    assert "Zeppelin" not in refused.text and "## From the knowledge base" not in refused.text
    await services.admin.update_agent_namespace_policy(SYSTEM, "helper", AgentNamespacePolicyUpdate(
        read=["air*"], write=[]))
    assert "Zeppelin hangar checks" in (await run_agent(services.ctx, None, admin, "helper", asked)).text


# ---- the runner follows the pipeline policy: retries of interrupted jobs, job timeout ---------------------


async def _forever(job) -> dict:
    while True:
        await job.checkpoint()
        await asyncio.sleep(0.02)


register_job_kind("admin_forever", _forever)


async def test_a_job_running_past_the_policy_timeout_is_failed(services, make_user):
    me = await member(services, make_user)
    async with services.ctx.db.transaction() as s:
        # The API allows 10 s at least; a stored 1 s keeps the test short.
        current, _ = await load_setting(s, POLICY_KEY, POLICY_DEFAULTS)
        await save_setting(s, POLICY_KEY, {**current, "job_timeout_seconds": 1}, services.ctx.clock.now(), "test")
    job = await services.agent_jobs.create(me, AgentJobCreate(kind="admin_forever"))
    assert await JobRunner(services, owner="test").run_one() == job.id
    done = await services.agent_jobs.get(me, job.id)
    assert str(done.status.value) == "failed" and "timed out after 1 s" in (done.error or "")


@pytest.mark.parametrize(("retries", "after_one_crash"), [(0, "failed"), (2, "queued")])
async def test_interrupted_jobs_are_retried_as_the_policy_says(services, make_user, retries, after_one_crash):
    me = await member(services, make_user)
    await services.admin.update_pipeline_policy(SYSTEM, PipelinePolicyUpdate(max_retries=retries))
    job = await services.agent_jobs.create(me, AgentJobCreate(kind="admin_forever"))
    crashed = JobRunner(services, owner="crashed", lease_seconds=0.01)
    assert (await crashed.claim()).id == job.id  # claimed, then the "process" dies: its lease runs out
    sweeper = JobRunner(services, owner="sweeper")
    for _ in range(200):  # wait for the lease to expire (polling, not a fixed delay)
        if await sweeper.sweep():
            break
        await asyncio.sleep(0.02)
    assert str((await services.agent_jobs.get(me, job.id)).status.value) == after_one_crash
