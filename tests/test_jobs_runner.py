"""The durable job runner: leases, restarts, races, cancel, failures.

Two ``Services`` opened on one database file stand for two processes on one data
dir: separate engines and connections, shared only through SQLite.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from crewos_tui.backend import errors
from crewos_tui.backend.local.jobs import JobContext, JobRunner, register_job_kind, supported_kinds
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import AgentJobRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate
from crewos_tui.backend.schemas.tasks import TaskCreate

from .conftest import ManualClock, fast_settings, user_factory

GATE: dict[str, asyncio.Event] = {}
CALLS: list[str] = []


async def _gated(job: JobContext) -> dict[str, Any]:
    """Waits until the test opens its gate (or forever), checking for cancel."""
    CALLS.append(job.job.id)
    gate = GATE.setdefault(job.job.id, asyncio.Event())
    while not gate.is_set():
        await job.checkpoint()
        await asyncio.sleep(0.01)
    return {"ran": True}


async def _boom(job: JobContext) -> dict[str, Any]:
    if job.params.get("readable"):
        raise errors.Conflict("the thing was already done")
    raise RuntimeError("disk on fire")


register_job_kind("unit_gated", _gated)
register_job_kind("unit_boom", _boom)


@pytest.fixture
async def two(tmp_path: Path):
    """Two service layers (processes) on one database."""
    a = await Services.open(tmp_path / "jobs.db", settings=fast_settings())
    b = await Services.open(tmp_path / "jobs.db", settings=fast_settings())
    yield a, b
    await a.close()
    await b.close()


async def owner(svc: Services) -> Principal:
    info, _ = await user_factory(svc)()
    return await svc.auth.principal_for(info.username)


async def queue(svc: Services, p: Principal, kind: str = "unit_gated", **params: Any) -> str:
    return (await svc.agent_jobs.create(p, AgentJobCreate(kind=kind, params=params))).id


async def status(svc: Services, p: Principal, job_id: str) -> str:
    return str((await svc.agent_jobs.get(p, job_id)).status.value)


async def until(svc: Services, p: Principal, job_id: str, wanted: set[str], timeout: float = 10) -> str:
    for _ in range(int(timeout / 0.02)):
        current = await status(svc, p, job_id)
        if current in wanted:
            return current
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} stayed {current}")


async def expire_lease(svc: Services, job_id: str) -> None:
    """As if the lease holder stopped renewing long ago (a crash, a frozen process)."""
    past = svc.ctx.clock.now() - timedelta(minutes=5)
    async with svc.ctx.db.transaction() as s:
        await s.execute(update(AgentJobRow).where(AgentJobRow.id == job_id).values(lease_expires_at=past))


async def kinds_of(svc: Services, p: Principal, job_id: str) -> list[str]:
    return [e.kind for e in (await svc.agent_jobs.list_events(p, job_id, limit=200)).items]


def test_builtin_kinds_are_registered() -> None:
    assert {"project_update", "task_run", "document_ingest"} <= set(supported_kinds())


async def test_a_job_left_running_by_a_dead_process_is_requeued_and_run(two) -> None:
    a, b = two
    p = await owner(a)
    job_id = await queue(a, p)
    dead = JobRunner(a, owner="dead-process", lease_seconds=30)
    assert (await dead.claim()).id == job_id  # claimed, then the process "dies"
    alive = JobRunner(b, owner="new-process", lease_seconds=1, poll_seconds=0.02)
    assert await alive.claim() is None  # the dead runner's lease still holds
    await expire_lease(b, job_id)
    GATE[job_id] = asyncio.Event()
    GATE[job_id].set()
    await alive.start()
    try:
        assert await until(b, p, job_id, {"succeeded", "failed"}) == "succeeded"
    finally:
        await alive.stop()
    job = await b.agent_jobs.get(p, job_id)
    assert job.attempts == 2 and job.result == {"ran": True}
    assert await kinds_of(b, p, job_id) == ["created", "started", "requeued", "started", "succeeded"]


async def test_after_max_attempts_an_interrupted_job_fails(two) -> None:
    a, b = two
    p = await owner(a)
    job_id = await queue(a, p)
    for n in range(2):
        crashed = JobRunner(a, owner=f"crash-{n}", max_attempts=2)
        assert (await crashed.claim()).id == job_id
        await expire_lease(a, job_id)
    sweeper = JobRunner(b, owner="sweeper", max_attempts=2)
    assert await sweeper.claim() is None  # two attempts used: not claimable again
    assert await sweeper.sweep() == 1
    job = await b.agent_jobs.get(p, job_id)
    assert job.status == "failed" and job.error == "interrupted"


async def test_two_runners_race_and_each_job_runs_once(two) -> None:
    a, b = two
    p = await owner(a)
    ids = [await queue(a, p) for _ in range(12)]
    ra, rb = JobRunner(a, owner="A"), JobRunner(b, owner="B")

    async def grab(runner: JobRunner) -> list[str]:
        got = []
        while (job := await runner.claim()) is not None:
            got.append(job.id)
            await asyncio.sleep(0)
        return got

    got_a, got_b = await asyncio.gather(grab(ra), grab(rb))
    assert sorted(got_a + got_b) == sorted(ids)  # all claimed, none twice
    assert not set(got_a) & set(got_b)
    owners = {j.id: j.health.lease_owner for j in (await a.agent_jobs.list(p, limit=50)).items}
    assert all(owners[i] == "A" for i in got_a) and all(owners[i] == "B" for i in got_b)


async def lease_expiry(svc: Services, job_id: str) -> datetime | None:
    async with svc.ctx.db.read() as s:
        return await s.scalar(select(AgentJobRow.lease_expires_at).where(AgentJobRow.id == job_id))


async def renewed(svc: Services, job_id: str, after: datetime | None) -> datetime:
    """Wait (bounded) for the heartbeat to move the lease past ``after``."""
    for _ in range(500):
        expiry = await lease_expiry(svc, job_id)
        if expiry is not None and (after is None or expiry > after):
            return expiry
        await asyncio.sleep(0.02)
    raise AssertionError(f"the lease of {job_id} was not renewed")


async def test_a_live_lease_keeps_other_runners_off(tmp_path: Path) -> None:
    clock = ManualClock()
    a = await Services.open(tmp_path / "jobs.db", clock=clock, settings=fast_settings())
    b = await Services.open(tmp_path / "jobs.db", clock=clock, settings=fast_settings())
    p = await owner(a)
    job_id = await queue(a, p)
    ra = JobRunner(a, owner="A", lease_seconds=3, poll_seconds=0.02)  # heartbeats every 1 s
    await ra.start()
    try:
        await until(a, p, job_id, {"running"})
        expiry = await renewed(a, job_id, None)
        for _ in range(2):  # two lease lengths pass in all; only the heartbeats keep it
            clock.advance(2)
            expiry = await renewed(a, job_id, expiry)
        assert expiry > clock.now()
        rb = JobRunner(b, owner="B", lease_seconds=3)
        assert await rb.sweep() == 0 and await rb.claim() is None
        GATE[job_id].set()
        assert await until(a, p, job_id, {"succeeded"}) == "succeeded"
    finally:
        await ra.stop()
        await a.close()
        await b.close()
    assert CALLS.count(job_id) == 1


async def test_a_runner_that_lost_its_lease_writes_nothing(two) -> None:
    a, b = two
    p = await owner(a)
    job_id = await queue(a, p)
    ra = JobRunner(a, owner="A", lease_seconds=30, poll_seconds=0.02)
    await ra.start()
    try:
        await until(a, p, job_id, {"running"})
        await expire_lease(a, job_id)  # A froze; B takes over
        rb = JobRunner(b, owner="B", lease_seconds=30)
        assert (await rb.claim()).id == job_id
        GATE[job_id].set()  # A's handler would now finish...
        for _ in range(500):  # ...and A is done with it (its outcome dropped: LeaseLost)
            if job_id not in ra.running_job_ids:
                break
            await asyncio.sleep(0.02)
        assert job_id not in ra.running_job_ids
        job = await a.agent_jobs.get(p, job_id)
        assert job.status == "running" and job.health.lease_owner == "B"  # ...but records nothing
    finally:
        await ra.stop()


async def test_stopping_a_runner_hands_its_jobs_back(two) -> None:
    a, _ = two
    p = await owner(a)
    job_id = await queue(a, p)
    runner = JobRunner(a, owner="A", poll_seconds=0.02)
    await runner.start()
    await until(a, p, job_id, {"running"})
    await runner.stop()
    job = await a.agent_jobs.get(p, job_id)
    assert job.status == "queued" and job.attempts == 0 and job.health.lease_owner is None
    assert (await kinds_of(a, p, job_id))[-1] == "requeued"


async def test_cancel_in_the_same_process_is_immediate(two) -> None:
    a, _ = two
    p = await owner(a)
    job_id = await queue(a, p)
    runner = JobRunner(a, owner="A", lease_seconds=60, poll_seconds=0.02)  # heartbeats every 20 s
    await runner.start()
    try:
        await until(a, p, job_id, {"running"})
        await a.agent_jobs.cancel(p, job_id)
        assert await until(a, p, job_id, {"cancelled", "succeeded", "failed"}, timeout=1) == "cancelled"
    finally:
        await runner.stop()
    assert job_id not in runner.running_job_ids


async def test_cancel_from_another_process_is_seen_at_the_next_heartbeat(two) -> None:
    a, b = two
    p = await owner(a)
    job_id = await queue(a, p)
    runner = JobRunner(a, owner="A", lease_seconds=0.6, poll_seconds=0.02)
    await runner.start()
    try:
        await until(a, p, job_id, {"running"})
        await b.agent_jobs.cancel(p, job_id)  # B's event bus does not reach A's runner
        assert await until(a, p, job_id, {"cancelled", "succeeded", "failed"}, timeout=2) == "cancelled"
    finally:
        await runner.stop()


async def test_failures_become_readable_errors(two) -> None:
    a, _ = two
    p = await owner(a)
    crash, refused = await queue(a, p, "unit_boom"), await queue(a, p, "unit_boom", readable=True)
    runner = JobRunner(a, owner="A")
    await runner.run_one()
    await runner.run_one()
    assert (await a.agent_jobs.get(p, crash)).error == "RuntimeError: disk on fire"
    assert (await a.agent_jobs.get(p, refused)).error == "the thing was already done"


async def test_an_interrupted_task_run_closes_its_old_agent_run(two) -> None:
    a, b = two
    p = await owner(a)
    project = await a.projects.create(p, ProjectCreate(name="Runs"))
    task = await a.tasks.create(p, TaskCreate(project_id=project.id, title="Write the summary"))
    job_id = (await a.agent_jobs.create(p, AgentJobCreate(kind="task_run", task_id=task.id))).id
    first = JobRunner(a, owner="A")
    job = await first.claim()
    # The first attempt got as far as starting the run, then its process died.
    await a.tasks.set_status(p, task.id, "in_progress")
    from crewos_tui.backend.schemas.tasks import AgentRunCreate

    await a.tasks.create_agent_run(p, task.id, AgentRunCreate(agent="worker", job_id=job.id))
    await expire_lease(a, job_id)
    second = JobRunner(b, owner="B")
    await second.sweep()
    assert await second.run_one() == job_id
    detail = await b.tasks.get(p, task.id)
    assert detail.status == "review"
    assert sorted((r.status.value, r.summary) for r in detail.agent_runs)[0] == ("failed", "interrupted")
    assert [r.status.value for r in detail.agent_runs].count("succeeded") == 1


async def test_background_starts_and_stops_with_services(tmp_path: Path) -> None:
    svc = await Services.open(tmp_path / "bg.db", settings=fast_settings())
    p = await owner(svc)
    await svc.start_background(poll_seconds=0.02)
    await svc.start_background()  # idempotent
    job_id = await queue(svc, p)
    GATE.setdefault(job_id, asyncio.Event()).set()
    assert await until(svc, p, job_id, {"succeeded"}) == "succeeded"
    await svc.close()  # stops the runner too
    assert "_job_runner" not in svc.domains


# ---- a busy database is retried, not a failure ------------------------------------------------

BUSY_HOLDERS: dict[str, Any] = {}


async def _busy_step(job: JobContext) -> dict[str, Any]:
    """Each of the first ``busy_runs`` runs meets a write lock another process holds for
    the whole step; that process lets go when the step has failed."""
    import sqlite3

    calls = BUSY_HOLDERS.setdefault(job.job.id, [])
    calls.append(len(calls) + 1)
    if len(calls) <= job.params["busy_runs"]:
        other = sqlite3.connect(job.ctx.db.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await job.progress(40, "step one")
        finally:
            other.rollback()
            other.close()
    await job.progress(80, "step two")
    return {"runs": len(calls)}


register_job_kind("unit_busy_step", _busy_step)


async def _impatient(path: Path) -> Services:
    """A service layer whose writers give up on a held lock after 0.2 s (not 30)."""
    from crewos_tui.backend.ids import Clock, IdGenerator
    from crewos_tui.backend.local.context import ServiceContext
    from crewos_tui.backend.local.db import Database
    from crewos_tui.backend.local.events import EventBus

    db = Database(path, busy_timeout_ms=10, busy_deadline=0.2)
    await db.migrate()
    clock = Clock()
    ids = IdGenerator(clock)
    return Services(ServiceContext(db=db, clock=clock, ids=ids, settings=fast_settings(), events=EventBus(clock, ids)))


async def test_a_step_that_meets_a_busy_database_is_run_again_not_failed(tmp_path: Path) -> None:
    svc = await _impatient(tmp_path / "busy.db")
    try:
        p = await owner(svc)
        job_id = await queue(svc, p, "unit_busy_step", busy_runs=2)
        runner = JobRunner(svc, owner="A", transient_retries=3, transient_backoff=0.01)
        assert await runner.run_one() == job_id
        job = await svc.agent_jobs.get(p, job_id)
        assert (job.status.value, job.result, job.attempts) == ("succeeded", {"runs": 3}, 1)
        messages = [e.message for e in (await svc.agent_jobs.list_events(p, job_id, limit=200)).items]
        assert "the database was busy; trying again (1 of 3)" in messages
        assert "the database was busy; trying again (2 of 3)" in messages
    finally:
        await svc.close()


async def test_a_database_busy_past_the_retries_fails_the_job_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    svc = await _impatient(path)
    try:
        p = await owner(svc)
        job_id = await queue(svc, p, "unit_busy_step", busy_runs=99)
        runner = JobRunner(svc, owner="A", transient_retries=2, transient_backoff=0.01)
        await runner.run_one()
        job = await svc.agent_jobs.get(p, job_id)
        assert BUSY_HOLDERS[job_id] == [1, 2, 3]  # the first run and two retries
        assert job.status.value == "failed"
        assert job.error == (f"database {path}: another process (a `crewos-tui serve`, a TUI or a script) kept "
                             "it locked; try again in a moment, or stop the other process")
    finally:
        await svc.close()
