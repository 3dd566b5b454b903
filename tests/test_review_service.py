"""Review-slice service rules the contract tests cannot see: domain events (and none from a
refused batch), the state machine table, stats on a fixed clock, scenario runs whose job
ends early, re-running a run, and create-task undoing its task when linking fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.ids import FixedClock, IdGenerator
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.review.states import (
    TRANSITIONS,
    allowed_actions,
    next_state,
)
from crewos_tui.backend.local.services.testing.runner import execute_run
from crewos_tui.backend.local.tables import DomainEventRow, ScenarioResultRow
from crewos_tui.backend.schemas import (
    CapabilityGapReportRun,
    FindingTaskCreate,
    ProjectCreate,
    ReviewBatch,
    ReviewBatchDecision,
    ReviewItemCreate,
    ScenarioRunCreate,
)

from .conftest import fast_settings, user_factory


async def team(svc: Services):
    make = user_factory(svc)
    owner, reviewer = (await make())[0], (await make())[0]
    po, pr = await svc.auth.principal_for(owner.username), await svc.auth.principal_for(reviewer.username)
    project = await svc.projects.create(po, ProjectCreate(name="Events"))
    await svc.projects.upsert_member(po, project.id, reviewer.id, "editor")
    return owner, reviewer, po, pr, project


async def events(svc: Services, prefix: str) -> list[DomainEventRow]:
    async with svc.ctx.db.read() as s:
        rows = (await s.scalars(select(DomainEventRow).where(DomainEventRow.kind.startswith(prefix))
                                .order_by(DomainEventRow.id))).all()
    return list(rows)


async def test_submissions_and_decisions_name_the_affected_users(services: Services) -> None:
    owner, reviewer, po, pr, project = await team(services)
    item = await services.review.submit(po, ReviewItemCreate(title="t", project_id=project.id,
                                                             requested_reviewer_ids=[reviewer.id]))
    await services.review.approve(pr, item.id, "fine")
    submitted, approved = await events(services, "review.")
    assert (submitted.kind, submitted.project_id, submitted.resource_id) == ("review.submitted", project.id, item.id)
    assert submitted.data["submitter_id"] == owner.id and submitted.data["requested_reviewer_ids"] == [reviewer.id]
    assert approved.kind == "review.approved" and approved.actor_id == reviewer.id
    assert approved.data["submitter_id"] == owner.id and approved.data["requested_reviewer_ids"] == [reviewer.id]
    assert (approved.data["from_state"], approved.data["to_state"], approved.data["reason"]) == (
        "pending", "approved", "fine")


async def test_a_refused_batch_records_no_event_and_tells_no_listener(services: Services) -> None:
    _, _, po, pr, project = await team(services)
    items = [await services.review.submit(po, ReviewItemCreate(title=f"i{i}", project_id=project.id))
             for i in range(2)]
    heard: list[str] = []
    services.ctx.events.subscribe(lambda ev: heard.append(ev.kind))
    before = len(await events(services, "review."))
    with pytest.raises(errors.NotFound):
        await services.review.decide_batch(pr, ReviewBatch(decisions=[
            ReviewBatchDecision(item_id=items[0].id, action="approve"),
            ReviewBatchDecision(item_id="missing", action="approve")]))
    assert len(await events(services, "review.")) == before and heard == []
    await services.review.decide_batch(pr, ReviewBatch(decisions=[
        ReviewBatchDecision(item_id=i.id, action="reject", reason="dup") for i in items]))
    assert heard == ["review.rejected", "review.rejected", "review.batch_decided"]
    batch_event = (await events(services, "review.batch"))[0]
    assert batch_event.data["item_ids"] == [i.id for i in items] and batch_event.data["actions"] == {"reject": 2}


@pytest.mark.parametrize("state", sorted(TRANSITIONS))
@pytest.mark.parametrize("action", ["approve", "reject", "quarantine", "release"])
def test_the_state_machine_table(state: str, action: str) -> None:
    target = TRANSITIONS[state].get(action)
    if target is None:
        with pytest.raises(errors.Conflict):
            next_state(state, action, "because")
    else:
        assert next_state(state, action, "because") == target
    assert allowed_actions("approved") == [] and allowed_actions("quarantined") == ["reject", "release"]


async def test_stats_on_a_fixed_clock(tmp_path) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock = FixedClock(start, timedelta(seconds=0))
    svc = await Services.open(tmp_path / "c.db", clock=clock, ids=IdGenerator(clock, seed=1),
                              settings=fast_settings())
    try:
        _, _, po, pr, project = await team(svc)
        items = []
        for hours in (0, 2, 30, 200):  # submitted at start + hours
            clock._t = start + timedelta(hours=hours)
            items.append(await svc.review.submit(po, ReviewItemCreate(title=f"h{hours}", project_id=project.id)))
        clock._t = start + timedelta(hours=201)
        await svc.review.approve(pr, items[3].id)  # waited 1 h
        await svc.review.reject(pr, items[2].id)  # waited 171 h
        await svc.review.approve(pr, items[1].id)  # waited 199 h
        stats = await svc.review.stats(pr)
        assert [(b.label, b.count) for b in stats.by_age] == [("< 1h", 0), ("1h-1d", 0), ("1d-7d", 0), ("> 7d", 1)]
        assert stats.median_seconds_to_decision == 171 * 3600
        assert stats.oldest_pending_at == start and stats.pending == 1 and stats.my_decisions_today == 3
        clock._t = start + timedelta(days=10)  # another day: nothing decided today
        assert (await svc.review.stats(pr)).my_decisions_today == 0
    finally:
        await svc.close()


async def test_a_run_whose_job_is_cancelled_reads_as_cancelled(services: Services) -> None:
    _, _, po, _, _ = await team(services)
    run = await services.testing.run(po, ScenarioRunCreate(scenario_ids=["helper-inbox"]))
    await services.agent_jobs.cancel(po, run.job_id)
    again = await services.testing.get_run(po, run.id)
    assert again.status == "cancelled" and again.finished_at is not None


async def test_running_a_run_again_replaces_its_results(services: Services) -> None:
    _, _, po, _, project = await team(services)
    run = await services.testing.run(po, ScenarioRunCreate(scenario_ids=["helper-inbox", "helper-capabilities"],
                                                           project_id=project.id))
    for _ in range(2):  # e.g. a job re-run after its runner died mid-way
        summary = await execute_run(services.ctx, po, run.id)
    assert summary == {"run_id": run.id, "status": "passed", "passed": 2, "failed": 0, "errors": 0}
    async with services.ctx.db.read() as s:
        assert len((await s.scalars(select(ScenarioResultRow).where(ScenarioResultRow.run_id == run.id))).all()) == 2


async def test_create_task_undoes_the_task_when_linking_fails(services: Services, monkeypatch) -> None:
    _, _, po, pr, project = await team(services)
    item = await services.review.submit(po, ReviewItemCreate(title="t", project_id=project.id))
    await services.review.reject(pr, item.id, "bad")
    report = await services.capability_gaps.run_report(pr, CapabilityGapReportRun(project_id=project.id))
    finding = report.findings[0]
    real_emit = services.ctx.events.emit

    async def failing_emit(session, principal, kind, *a, **kw):
        if kind == "capability_gap.task_created":
            raise RuntimeError("disk full")
        return await real_emit(session, principal, kind, *a, **kw)

    monkeypatch.setattr(services.ctx.events, "emit", failing_emit)
    with pytest.raises(RuntimeError):
        await services.capability_gaps.create_task(pr, finding.id, FindingTaskCreate(project_id=project.id))
    assert (await services.tasks.list(pr, project_id=project.id)).items == []
    page = await services.capability_gaps.list_findings(pr)
    assert page.items[0].task_id is None and page.items[0].status == "open"


async def test_an_older_database_gets_the_review_tables(tmp_path) -> None:
    from .test_db import make_v1

    path = tmp_path / "old.db"
    make_v1(path)
    svc = await Services.open(path, settings=fast_settings())
    try:
        me = await svc.auth.principal_for("oldtimer")
        item = await svc.review.submit(me, ReviewItemCreate(title="after upgrade"))
        assert (await svc.review.get(me, item.id)).state == "pending"
        assert (await svc.validation.logs(me)).items == []
        assert (await svc.capability_gaps.run_report(me, CapabilityGapReportRun())).findings == []
    finally:
        await svc.close()
