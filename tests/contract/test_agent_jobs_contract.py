"""Durable agent jobs, on both backends.

A job runner works on the test's own service layer (``world.services``), which
shares the database file with the backend under test: in remote mode that is a
second "process" on the same data dir, so the server's writes (create, cancel)
reach the runner only through the database, as they would across processes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.local.jobs import JobContext, JobRunner, register_job_kind
from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate
from crewos_tui.backend.schemas.projects import ProjectRole
from crewos_tui.backend.schemas.tasks import TaskCreate

from ..conftest import unique

#: The users of these tests get a team of their own: the live server is shared by the
#: whole session, and other tests page through the "default" team's users.
TEAM = unique("tasks-team-")

TERMINAL = {"succeeded", "failed", "cancelled"}


async def _wait_steps(job: JobContext) -> dict[str, Any]:
    """A slow job for cancel tests: reports progress between short sleeps."""
    steps = int(job.params.get("steps", 100))
    for i in range(steps):
        await job.progress(i * 100 // steps, f"step {i + 1} of {steps}")
        await asyncio.sleep(0.05)
    return {"steps": steps}


register_job_kind("contract_wait", _wait_steps, description="test-only: waits, step by step")


@pytest.fixture
async def runner(world):
    r = JobRunner(world.services, lease_seconds=1.0, poll_seconds=0.05)
    await r.start()
    yield r
    await r.stop()


async def settled(backend, job_id: str, timeout: float = 15.0, until: set[str] = TERMINAL):
    deadline = time.monotonic() + timeout
    while True:
        job = await backend.agent_jobs.get(job_id)
        if job.status in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} after {timeout} s")
        await asyncio.sleep(0.05)


async def setup(world):
    owner = await world.user(team=TEAM)
    b = await world.as_(owner)
    project = await b.projects.create(ProjectCreate(name=unique("Jobs ")))
    await b.projects.upload_document(project.id, "plan.md", b"# Plan\n\nThe launch checklist covers docs and demos.\n")
    return owner, b, project


async def test_unknown_kind_is_422_listing_the_supported_ones(world):
    _, b, project = await setup(world)
    with pytest.raises(errors.Invalid) as caught:
        await b.agent_jobs.create(AgentJobCreate(kind="summon_dragon", project_id=project.id))
    for kind in ("document_ingest", "project_update", "task_run"):
        assert kind in str(caught.value)
    assert (await b.agent_jobs.list(project_id=project.id)).items == []  # nothing half-written


async def test_bad_input(world):
    _, b, project = await setup(world)
    with pytest.raises(errors.Invalid, match="project_id"):
        await b.agent_jobs.create(AgentJobCreate(kind="project_update"))
    with pytest.raises(errors.NotFound):
        await b.agent_jobs.create(AgentJobCreate(kind="project_update", project_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    with pytest.raises(errors.NotFound):
        await b.agent_jobs.create(AgentJobCreate(kind="task_run", task_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    with pytest.raises(errors.NotFound):
        await b.agent_jobs.create(AgentJobCreate(kind="document_ingest", project_id=project.id,
                                                 params={"document_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}))
    task = await b.tasks.create(TaskCreate(project_id=project.id, title="t"))
    await b.tasks.set_status(task.id, "cancelled")
    with pytest.raises(errors.Conflict, match="todo or in_progress"):
        await b.agent_jobs.create(AgentJobCreate(kind="task_run", task_id=task.id))
    with pytest.raises(errors.Invalid, match="agent"):
        live = await b.tasks.create(TaskCreate(project_id=project.id, title="u"))
        await b.agent_jobs.create(AgentJobCreate(kind="task_run", task_id=live.id, params={"agent": "nobody"}))
    with pytest.raises(errors.NotFound):
        await b.agent_jobs.get("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(errors.NotFound):
        await b.agent_jobs.cancel("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(errors.Invalid):
        await b.agent_jobs.list(status="exploded")


async def test_project_update_runs_in_the_background(world, runner):
    owner, b, project = await setup(world)
    task = await b.tasks.create(TaskCreate(project_id=project.id, title="Record the demo"))
    await b.tasks.block(task.id, "Waiting for the studio.")
    queued = await b.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=project.id))
    assert queued.status == "queued" and queued.created_by_id == owner.id and queued.health.state == "waiting"
    job = await settled(b, queued.id)
    assert job.status == "succeeded", job.error
    assert job.progress == 100 and job.health.state == "finished" and job.finished_at is not None
    markdown = job.result["markdown"]
    assert markdown.startswith(f"# Project update: {project.name}")
    assert "**Record the demo** — Waiting for the studio." in markdown
    kinds = [e.kind for e in (await b.agent_jobs.list_events(job.id)).items]
    assert kinds[:2] == ["created", "started"] and kinds[-1] == "succeeded" and "progress" in kinds


async def test_task_run_works_the_task_and_hands_it_to_review(world, runner):
    _, b, project = await setup(world)
    task = await b.tasks.create(TaskCreate(project_id=project.id, title="Update the launch checklist",
                                           description="Make sure docs and demos are on it."))
    queued = await b.agent_jobs.create(AgentJobCreate(kind="task_run", task_id=task.id))
    assert queued.task_id == task.id and queued.project_id == project.id and queued.params["agent"] == "worker"
    with pytest.raises(errors.Conflict, match="already has an agent job"):
        await b.agent_jobs.create(AgentJobCreate(kind="task_run", task_id=task.id))
    job = await settled(b, queued.id)
    assert job.status == "succeeded", job.error
    detail = await b.tasks.get(task.id)
    assert detail.status == "review" and detail.agent_job_id == job.id
    run = detail.agent_runs[0]
    assert run.agent == "worker" and run.status == "succeeded" and run.job_id == job.id
    assert run.input_tokens > 0 and run.output_tokens > 0 and "plan.md" in run.output
    assert job.result["run_id"] == run.id


async def test_document_ingest(world, runner):
    _, b, project = await setup(world)
    doc = (await b.projects.list_documents(project.id)).items[0]
    job = await settled(b, (await b.agent_jobs.create(AgentJobCreate(
        kind="document_ingest", project_id=project.id, params={"document_id": doc.id}))).id)
    assert job.status == "succeeded", job.error
    assert job.result["ingest_count"] == doc.ingest_count + 1


async def test_visibility_and_filters(world):
    _owner, b, project = await setup(world)
    viewer_user = await world.user(team=TEAM)
    await b.projects.upsert_member(project.id, viewer_user.id, ProjectRole.viewer)
    viewer, stranger = await world.as_(viewer_user), await world.as_(await world.user(team=TEAM))
    job = await b.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=project.id))
    assert [j.id for j in (await viewer.agent_jobs.list(project_id=project.id)).items] == [job.id]
    assert (await viewer.agent_jobs.get(job.id)).id == job.id
    with pytest.raises(errors.Forbidden):
        await viewer.agent_jobs.cancel(job.id)  # viewers read, editors change
    with pytest.raises(errors.Forbidden):
        await viewer.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=project.id))
    with pytest.raises(errors.NotFound):
        await stranger.agent_jobs.get(job.id)
    with pytest.raises(errors.NotFound):
        await stranger.agent_jobs.list_events(job.id)
    assert job.id not in [j.id for j in (await stranger.agent_jobs.list()).items]
    assert [j.id for j in (await b.agent_jobs.list(kind="project_update", project_id=project.id)).items] == [job.id]
    assert (await b.agent_jobs.list(kind="task_run", project_id=project.id)).items == []
    assert (await b.agent_jobs.list(status="succeeded", project_id=project.id)).items == []
    await b.agent_jobs.cancel(job.id)  # leave nothing queued for other tests' runners


async def test_cancel_a_queued_job(world):
    _, b, project = await setup(world)
    job = await b.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=project.id))
    cancelled = await b.agent_jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    with pytest.raises(errors.Conflict, match="already cancelled"):
        await b.agent_jobs.cancel(job.id)
    assert [e.kind for e in (await b.agent_jobs.list_events(job.id)).items] == ["created", "cancelled"]


async def test_cancel_stops_a_running_job_promptly(world, runner):
    _, b, project = await setup(world)
    job = await b.agent_jobs.create(AgentJobCreate(kind="contract_wait", project_id=project.id,
                                                   params={"steps": 400}))
    running = await settled(b, job.id, until={"running"} | TERMINAL)
    assert running.status == "running" and running.health.state == "alive"
    assert running.health.lease_owner == runner.owner
    answer = await b.agent_jobs.cancel(job.id)
    assert answer.cancel_requested
    done = await settled(b, job.id)
    assert done.status == "cancelled"
    # Stopped in the middle (at a heartbeat), not after its 400 steps (20 s) of work.
    assert done.progress < 100 and done.result is None
    kinds = [e.kind for e in (await b.agent_jobs.list_events(job.id, limit=200)).items]
    assert "cancel_requested" in kinds and kinds[-1] == "cancelled"


async def test_retry_requeues_the_tasks_agent_job(world, runner):
    _, b, project = await setup(world)
    task = await b.tasks.create(TaskCreate(project_id=project.id, title="Prepare the demo script"))
    await runner.stop()  # queue it while nobody works, then make the run fail
    job = await b.agent_jobs.create(AgentJobCreate(kind="task_run", task_id=task.id))
    await b.tasks.set_status(task.id, "in_progress")
    await b.tasks.set_status(task.id, "failed", "the agent crashed")
    await runner.start()
    failed = await settled(b, job.id)
    assert failed.status == "failed" and "failed" in (failed.error or "")
    again = await b.tasks.retry(task.id, "try once more")
    assert again.status == "todo"
    job = await settled(b, job.id)
    assert job.status == "succeeded", job.error
    assert (await b.tasks.get(task.id)).status == "review"
    assert "requeued" in [e.kind for e in (await b.agent_jobs.list_events(job.id)).items]
