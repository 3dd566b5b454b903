"""Scenario test runs on both backends. Runs are durable agent jobs: a job runner on the
test's service layer (the same database the server uses) executes them."""

from __future__ import annotations

import asyncio

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.local.jobs import JobRunner
from crewos_tui.backend.schemas import ProjectCreate, ScenarioRunCreate

from ..conftest import unique
from .review_support import user


async def finished(world, backend, run_id: str, timeout: float = 30.0):
    runner = JobRunner(world.services, poll_seconds=0.05, owner=unique("test-runner"))
    await runner.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            run = await backend.testing.get_run(run_id)
            job = await backend.agent_jobs.get(run.job_id)
            if run.status not in ("queued", "running") and job.status in ("succeeded", "failed", "cancelled"):
                return run
            assert asyncio.get_running_loop().time() < deadline, f"run still {run.status}"
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()


async def test_scenarios_are_listed(world):
    b = await world.as_(await user(world))
    page = await b.testing.list_scenarios()
    ids = [s.id for s in page.items]
    assert ids == sorted(ids) and {"helper-capabilities", "reporter-update", "planner-breakdown"} <= set(ids)
    reporter = next(s for s in page.items if s.id == "reporter-update")
    assert reporter.agent == "reporter" and reporter.needs_project and reporter.rubric["required_sections"]
    first = await b.testing.list_scenarios(limit=2)
    rest = await b.testing.list_scenarios(limit=50, cursor=first.next_cursor)
    assert [s.id for s in first.items + rest.items] == ids


async def test_a_run_is_a_job_with_per_scenario_results(world):
    me = await user(world)
    b = await world.as_(me)
    project = await b.projects.create(ProjectCreate(name=unique("Tested ")))
    run = await b.testing.run(ScenarioRunCreate(project_id=project.id, label="nightly"))
    assert run.status == "queued" and run.mode == "job" and run.job_id and run.total >= 5
    job = await b.agent_jobs.get(run.job_id)
    assert job.kind == "scenario_run"
    done = await finished(world, b, run.id)
    outcomes = {r.scenario_id: r.outcome for r in done.results}
    assert outcomes["helper-capabilities"] == "passed" and outcomes["reporter-update"] == "passed"
    assert outcomes["reporter-cites-sources"] == "failed"  # the built-in reporter cites nothing yet
    assert done.status == "failed" and done.passed_count + done.failed_count + done.error_count == done.total
    failing = next(r for r in done.results if r.scenario_id == "reporter-cites-sources")
    assert failing.validation_id and any(f.check == "citations" and not f.passed for f in failing.findings)
    logs = await b.validation.logs(source="testing")
    assert failing.validation_id in [v.id for v in logs.items]
    assert done.id in [r.id for r in (await b.testing.list_runs()).items]
    assert (await b.agent_jobs.get(run.job_id)).status == "succeeded"


async def test_chosen_scenarios_and_one_that_needs_a_project(world):
    b = await world.as_(await user(world))
    run = await b.testing.run(ScenarioRunCreate(scenario_ids=["helper-capabilities", "reporter-update"]))
    assert run.scenario_ids == ["helper-capabilities", "reporter-update"] and run.total == 2
    done = await finished(world, b, run.id)
    by = {r.scenario_id: r for r in done.results}
    assert by["helper-capabilities"].outcome == "passed" and by["helper-capabilities"].score == 100
    assert by["reporter-update"].outcome == "error" and "needs a project" in by["reporter-update"].error
    assert done.status == "failed" and done.error_count == 1
    assert (await b.testing.list_runs(status="failed")).items[0].id == run.id


async def test_bad_runs_are_refused(world):
    b = await world.as_(await user(world))
    with pytest.raises(errors.Invalid, match="unknown scenario"):
        await b.testing.run(ScenarioRunCreate(scenario_ids=["no-such-scenario"]))
    with pytest.raises(errors.NotFound):
        await b.testing.run(ScenarioRunCreate(project_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    viewer = await world.as_(await user(world, role="viewer"))
    with pytest.raises(errors.Forbidden):
        await viewer.testing.run(ScenarioRunCreate())
    with pytest.raises(errors.NotFound):
        await b.testing.get_run("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(errors.Invalid):
        await b.testing.list_runs(status="sideways")


async def test_runs_of_others_are_invisible(world):
    b = await world.as_(await user(world))
    run = await b.testing.run(ScenarioRunCreate(scenario_ids=["helper-inbox"]))
    stranger = await world.as_(await user(world))
    with pytest.raises(errors.NotFound):
        await stranger.testing.get_run(run.id)
    assert run.id not in [r.id for r in (await stranger.testing.list_runs()).items]
    await finished(world, b, run.id)
