"""A job run again after its process stopped recognises the work an earlier attempt
already committed: it does only the steps that are left and succeeds, noting so.

The crash: a runner claims the job and runs its handler, which commits its steps; the
process then "dies" (the handler is stopped by ``Crash``, which no handler catches as an
error, or simply returns) before the runner marks the job done. Its lease runs out and a
runner of the restarted process takes the job again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crewos_tui.backend.local.jobs import RUNNER, JobContext, JobRunner, job_kind
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import AgentJobRow, DocumentRow, ValidationRunRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import PipelinePolicyUpdate, ProjectCreate, ScenarioRunCreate
from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate
from crewos_tui.backend.schemas.tasks import TaskCreate, TaskStatus

from .conftest import principal_of, user_factory


class Crash(BaseException):
    """The process died here: nothing after this point of the attempt runs."""


async def owner(svc: Services) -> tuple[Principal, str]:
    info, _ = await user_factory(svc)()
    me = await principal_of(svc, info)
    return me, (await svc.projects.create(me, ProjectCreate(name="Reruns"))).id


async def crashed_attempt(svc: Services, job_id: str) -> None:
    """Claim the job and run its handler to the crash; the job is never marked done."""
    runner = JobRunner(svc, owner="crashed-process")
    job = await runner.claim()
    assert job is not None and job.id == job_id
    context = JobContext(runner, job, RUNNER)
    context.principal = await runner._principal_of(job)
    with contextlib.suppress(Crash):
        await job_kind(job.kind).handler(context)
    async with svc.ctx.db.read() as s:
        assert (await s.get(AgentJobRow, job_id)).status == "running"  # type: ignore[union-attr]
    past = svc.ctx.clock.now() - timedelta(minutes=5)  # its lease runs out: nobody renews it
    async with svc.ctx.db.transaction() as s:
        await s.execute(update(AgentJobRow).where(AgentJobRow.id == job_id).values(lease_expires_at=past))


async def rerun(svc: Services, me: Principal, job_id: str) -> Any:
    restarted = JobRunner(svc, owner="restarted-process")
    assert await restarted.run_one() == job_id
    return await svc.agent_jobs.get(me, job_id)


def crash_on(obj: Any, name: str, when: Callable[..., bool] = lambda *a, **k: True) -> None:
    """Make ``obj.name`` crash the process when ``when(*args)`` holds (instead of running)."""
    real: Callable[..., Awaitable[Any]] = getattr(obj, name)

    async def crashing(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            raise Crash()
        return await real(*args, **kwargs)

    setattr(obj, name, crashing)


async def task_job(svc: Services, me: Principal, project_id: str) -> tuple[str, str]:
    task = await svc.tasks.create(me, TaskCreate(project_id=project_id, title="Write the release notes"))
    job = await svc.agent_jobs.create(me, AgentJobCreate(kind="task_run", task_id=task.id))
    return task.id, job.id


async def notes(svc: Services, me: Principal, job_id: str) -> list[str]:
    return [e.message for e in (await svc.agent_jobs.list_events(me, job_id, limit=200)).items]


async def test_a_task_run_that_crashed_after_its_work_succeeds_as_already_done(services):
    me, project_id = await owner(services)
    task_id, job_id = await task_job(services, me, project_id)
    await crashed_attempt(services, job_id)  # the whole handler ran: the task is in review
    assert (await services.tasks.get(me, task_id)).status == TaskStatus.review
    job = await rerun(services, me, job_id)
    assert job.status == "succeeded" and job.attempts == 2 and job.error is None
    assert job.result["already_done"] is True and "already done by an earlier attempt" in job.result["note"]
    detail = await services.tasks.get(me, task_id)
    assert detail.status == TaskStatus.review  # as the first attempt left it
    assert [r.status.value for r in detail.agent_runs] == ["succeeded"]  # the work was not done twice
    assert job.result["run_id"] == detail.agent_runs[0].id
    assert f"already done by an earlier attempt (agent run {job.result['run_id']}); the task is in review" in \
        await notes(services, me, job_id)


async def test_a_task_run_that_crashed_before_the_move_to_review_only_moves_it(services):
    me, project_id = await owner(services)
    task_id, job_id = await task_job(services, me, project_id)
    crash_on(services.tasks, "set_status", lambda _p, _t, status, *_: status == "review")
    await crashed_attempt(services, job_id)
    del services.tasks.set_status  # the restarted process has the real one
    detail = await services.tasks.get(me, task_id)
    assert detail.status == TaskStatus.in_progress and detail.agent_runs[0].status.value == "succeeded"
    job = await rerun(services, me, job_id)
    assert job.status == "succeeded" and job.result["already_done"] is True
    detail = await services.tasks.get(me, task_id)
    assert detail.status == TaskStatus.review and len(detail.agent_runs) == 1
    assert detail.status_reason == "worker finished; ready for review"


async def test_the_policy_step_left_by_a_crash_is_done_by_the_rerun(services):
    await services.admin.update_pipeline_policy(Principal.system(), PipelinePolicyUpdate(require_review=False))
    me, project_id = await owner(services)
    task_id, job_id = await task_job(services, me, project_id)
    crash_on(services.tasks, "approve")  # moved to review; the automatic approval never happened
    await crashed_attempt(services, job_id)
    del services.tasks.approve
    assert (await services.tasks.get(me, task_id)).status == TaskStatus.review
    job = await rerun(services, me, job_id)
    assert job.status == "succeeded" and job.result["already_done"] is True
    detail = await services.tasks.get(me, task_id)
    assert detail.status == TaskStatus.done and len(detail.agent_runs) == 1


async def test_a_task_sent_back_since_is_worked_again(services):
    me, project_id = await owner(services)
    task_id, job_id = await task_job(services, me, project_id)
    await crashed_attempt(services, job_id)
    await services.tasks.request_rework(me, task_id, "cover the migration too")  # review -> in progress
    job = await rerun(services, me, job_id)
    assert job.status == "succeeded" and "already_done" not in job.result
    detail = await services.tasks.get(me, task_id)
    assert detail.status == TaskStatus.review and [r.status.value for r in detail.agent_runs] == ["succeeded"] * 2


async def test_a_project_update_that_crashed_after_saving_its_document_keeps_that_one(services):
    me, project_id = await owner(services)
    job = await services.agent_jobs.create(me, AgentJobCreate(kind="project_update", project_id=project_id,
                                                              params={"save_as_document": True}))
    await crashed_attempt(services, job.id)
    await services.tasks.create(me, TaskCreate(project_id=project_id, title="Added meanwhile"))
    done = await rerun(services, me, job.id)
    assert done.status == "succeeded" and done.result["already_done"] is True
    async with services.ctx.db.read() as s:
        docs = (await s.scalars(select(DocumentRow).where(DocumentRow.project_id == project_id))).all()
    assert [d.id for d in docs] == [done.result["document_id"]]
    assert done.result["markdown"] == docs[0].text  # the update that was saved, not a newer one


async def test_a_test_run_that_crashed_after_finishing_is_not_run_again(services):
    me, project_id = await owner(services)
    run = await services.testing.run(me, ScenarioRunCreate(project_id=project_id,
                                                           scenario_ids=["helper-capabilities"]))
    await crashed_attempt(services, run.job_id)  # type: ignore[arg-type]
    async with services.ctx.db.read() as s:
        validations = await s.scalar(select(func.count()).select_from(ValidationRunRow))
    done = await rerun(services, me, run.job_id)  # type: ignore[arg-type]
    assert done.status == "succeeded" and done.result["already_done"] is True
    assert done.result["run_id"] == run.id and done.result["status"] in ("passed", "failed")
    async with services.ctx.db.read() as s:  # no scenario was answered and scored again
        assert await s.scalar(select(func.count()).select_from(ValidationRunRow)) == validations


@pytest.mark.parametrize("kind", ["task_run", "project_update"])
async def test_a_first_attempt_does_not_say_already_done(services, kind):
    me, project_id = await owner(services)
    if kind == "task_run":
        _, job_id = await task_job(services, me, project_id)
    else:
        job_id = (await services.agent_jobs.create(me, AgentJobCreate(kind=kind, project_id=project_id))).id
    assert await JobRunner(services, owner="once").run_one() == job_id
    job = await services.agent_jobs.get(me, job_id)
    assert job.status == "succeeded" and "already_done" not in job.result
