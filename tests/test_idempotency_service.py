"""Idempotent creates in the service layer: what the wire cannot show. The key is
written in the create's own transaction (a failure at commit keeps neither), keys
expire after 24 h, a create that calls another create uses its key once, the calls
inside an enclosing transaction join it, and a migrated database gets the table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from crewos_tui.backend import errors
from crewos_tui.backend.idempotency import KEPT, idempotency_key
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import AgentJobRow, DomainEventRow, IdempotencyKeyRow, TaskRow
from crewos_tui.backend.schemas import ProjectCreate, ScenarioRunCreate
from crewos_tui.backend.schemas.tasks import TaskCreate

from .conftest import ManualClock, fast_settings, principal_of, unique, user_factory
from .test_db import make_v1


@pytest.fixture
async def clocked(fresh_db):
    clock = ManualClock()
    svc = await Services.open(fresh_db, clock=clock, settings=fast_settings())
    yield svc, clock
    await svc.close()


async def owner(svc: Services):
    info, _ = await user_factory(svc)()
    me = await principal_of(svc, info)
    project = await svc.projects.create(me, ProjectCreate(name=unique("Idem ")))
    return me, project


async def count(svc: Services, row: type, *where) -> int:
    async with svc.ctx.db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(row).where(*where)) or 0)


async def test_a_key_is_forgotten_after_24_hours_and_old_keys_are_pruned(clocked):
    svc, clock = clocked
    me, project = await owner(svc)
    data = TaskCreate(project_id=project.id, title="Daily")
    with idempotency_key("daily"):
        first = await svc.tasks.create(me, data)
    clock.t += KEPT - timedelta(seconds=1)
    with idempotency_key("daily") as slot:
        assert (await svc.tasks.create(me, data)).id == first.id and slot.replayed
    clock.t += timedelta(seconds=1)  # 24 h after the first: the key is free again
    with idempotency_key("daily") as slot:
        second = await svc.tasks.create(me, data)
    assert second.id != first.id and not slot.replayed
    assert await count(svc, TaskRow, TaskRow.project_id == project.id) == 2
    with idempotency_key("other"):
        clock.t += KEPT
        await svc.tasks.create(me, TaskCreate(project_id=project.id, title="Later"))
    async with svc.ctx.db.read() as s:  # each create deletes the keys that ran out
        keys = (await s.scalars(select(IdempotencyKeyRow.key))).all()
    assert keys == ["other"]


async def test_the_key_and_the_create_commit_together(services):
    me, project = await owner(services)
    async with services.ctx.db.transaction() as s:  # the key's write fails, as on a full disk
        await s.execute(text("CREATE TRIGGER refuse_keys BEFORE INSERT ON idempotency_keys "
                             "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))
    events = await count(services, DomainEventRow)
    with idempotency_key("k"), pytest.raises(Exception, match="disk I/O error"):
        await services.tasks.create(me, TaskCreate(project_id=project.id, title="Half"))
    assert await count(services, TaskRow, TaskRow.project_id == project.id) == 0  # no task without its key
    assert await count(services, DomainEventRow) == events
    async with services.ctx.db.transaction() as s:
        await s.execute(text("DROP TRIGGER refuse_keys"))
    with idempotency_key("k") as slot:  # sent again: made once, now
        await services.tasks.create(me, TaskCreate(project_id=project.id, title="Half"))
    assert not slot.replayed and await count(services, TaskRow, TaskRow.project_id == project.id) == 1
    assert await count(services, IdempotencyKeyRow) == 1


async def test_a_create_that_makes_another_uses_its_key_once(services):
    me, project = await owner(services)
    data = ScenarioRunCreate(project_id=project.id, scenario_ids=["helper-capabilities"])
    with idempotency_key("nightly"):
        run = await services.testing.run(me, data)  # queues an agent job: a create inside a create
        again = await services.testing.run(me, data)
    assert again.id == run.id and again.job_id == run.job_id
    assert await count(services, AgentJobRow, AgentJobRow.project_id == project.id) == 1
    async with services.ctx.db.read() as s:
        ops = (await s.scalars(select(IdempotencyKeyRow.operation))).all()
    assert ops == ["ScenarioTestingService.run"]


async def test_calls_inside_an_enclosing_transaction_join_it(services):
    me, project = await owner(services)
    db = services.ctx.db
    with pytest.raises(errors.Conflict):
        async with db.transaction(enclosing=True):
            task = await services.tasks.create(me, TaskCreate(project_id=project.id, title="Inside"))
            async with db.read() as s:  # a read sees the enclosing transaction's writes
                assert (await s.get(TaskRow, task.id)) is not None
            raise errors.Conflict("changed my mind")
    assert await count(services, TaskRow, TaskRow.project_id == project.id) == 0  # rolled back with it
    async with db.transaction():  # not enclosing: the calls inside keep their own (here: none)
        pass
    await services.tasks.create(me, TaskCreate(project_id=project.id, title="Outside"))
    assert await count(services, TaskRow, TaskRow.project_id == project.id) == 1


async def test_a_migrated_database_takes_keys(tmp_path):
    path = tmp_path / "old.db"
    make_v1(path)
    svc = await Services.open(path, settings=fast_settings())
    try:
        me = await svc.auth.principal_for("oldtimer")
        with idempotency_key("after-upgrade") as slot:
            first = await svc.projects.create(me, ProjectCreate(name="After upgrade"))
            again = await svc.projects.create(me, ProjectCreate(name="After upgrade"))
        assert again.id == first.id and slot.replayed
    finally:
        await svc.close()
