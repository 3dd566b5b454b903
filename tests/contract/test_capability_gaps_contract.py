"""Capability-gap reports and findings on both backends."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import (
    CapabilityGapReportRun,
    FindingStatusUpdate,
    FindingTaskCreate,
    ProjectCreate,
    TaskCreate,
    ValidationRequest,
    ValidationRubric,
)

from ..conftest import unique
from .review_support import review_team, user


async def gaps_world(world):
    """A project with two rejected reviews, a failed validation and a failed task."""
    t = await review_team(world)
    for i in range(2):
        item = await t.submit(f"draft {i}", kind="weekly_update")
        await t.reviewer_b.review.reject(item.id, f"numbers wrong {i}")
    await t.reviewer_b.validation.validate(ValidationRequest(
        output="too short", project_id=t.project_id, rubric=ValidationRubric(required_sections=["Summary"])))
    task = await t.owner_b.tasks.create(TaskCreate(project_id=t.project_id, title="Import ledger"))
    await t.owner_b.tasks.set_status(task.id, "in_progress")
    await t.owner_b.tasks.set_status(task.id, "failed", "importer crashed")
    return t


async def test_a_report_finds_gaps_with_severity_and_evidence(world):
    t = await gaps_world(world)
    report = await t.reviewer_b.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    assert report.scanned["review"] == 2 and report.scanned["validation"] == 1 and report.scanned["task"] == 1
    by = {f.capability: f for f in report.findings}
    review = by["review:weekly_update"]
    assert review.severity == "medium" and review.evidence_count == 2 and review.status == "open"
    assert {e.detail for e in review.evidence} == {"rejected: numbers wrong 0", "rejected: numbers wrong 1"}
    assert by["validation:required_sections"].severity == "low"
    assert by["tasks:failed"].evidence[0].detail == "importer crashed"
    assert sum(report.severity_counts.values()) == len(report.findings) == len(report.finding_ids)
    got = await t.owner_b.capability_gaps.get_report(report.id)
    assert [f.id for f in got.findings] == sorted(report.finding_ids)
    assert report.id in [r.id for r in (await t.viewer_b.capability_gaps.list_reports()).items]


async def test_a_second_report_updates_open_findings_instead_of_duplicating(world):
    t = await gaps_world(world)
    first = await t.reviewer_b.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    item = await t.submit("draft 3", kind="weekly_update")
    await t.reviewer_b.review.reject(item.id, "again")
    second = await t.reviewer_b.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    old = {f.capability: f for f in first.findings}
    new = {f.capability: f for f in second.findings}
    assert new["review:weekly_update"].id == old["review:weekly_update"].id
    assert new["review:weekly_update"].evidence_count == 3 and new["review:weekly_update"].last_report_id == second.id
    listed = await t.reviewer_b.capability_gaps.list_findings(project_id=t.project_id)
    assert len(listed.items) == len(new)


async def test_finding_status_machine(world):
    t = await gaps_world(world)
    report = await t.reviewer_b.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    finding = report.findings[0]
    gaps = t.reviewer_b.capability_gaps
    with pytest.raises(errors.Conflict, match="allowed: acknowledged"):
        await gaps.update_finding_status(finding.id, FindingStatusUpdate(status="resolved"))
    ack = await gaps.update_finding_status(finding.id, FindingStatusUpdate(status="acknowledged", note="on it"))
    assert ack.status == "acknowledged" and ack.status_note == "on it" and ack.status_changed_by == t.reviewer.username
    done = await gaps.update_finding_status(finding.id, FindingStatusUpdate(status="wont_fix", note="by design"))
    assert done.status == "wont_fix"
    with pytest.raises(errors.Conflict, match="closed"):
        await gaps.update_finding_status(finding.id, FindingStatusUpdate(status="open"))
    with pytest.raises(errors.Forbidden):
        await t.viewer_b.capability_gaps.update_finding_status(report.findings[1].id,
                                                               FindingStatusUpdate(status="acknowledged"))
    assert [f.id for f in (await gaps.list_findings(status="wont_fix")).items] == [finding.id]
    with pytest.raises(errors.NotFound):
        await gaps.update_finding_status("01ARZ3NDEKTSV4RRFFQ69G5FAV", FindingStatusUpdate(status="acknowledged"))


async def test_a_finding_becomes_a_task(world):
    t = await gaps_world(world)
    report = await t.reviewer_b.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    finding = next(f for f in report.findings if f.capability == "review:weekly_update")
    created = await t.reviewer_b.capability_gaps.create_task(finding.id, FindingTaskCreate(
        project_id=t.project_id, assignee_id=t.owner.id))
    assert created.finding.task_id == created.task_id and created.finding.status == "acknowledged"
    task = await t.owner_b.tasks.get(created.task_id)
    assert task.title == created.title and task.title.startswith("Capability gap:")
    assert finding.id in task.description and task.assignee_id == t.owner.id
    with pytest.raises(errors.Conflict, match="already has task"):
        await t.reviewer_b.capability_gaps.create_task(finding.id, FindingTaskCreate(project_id=t.project_id))


async def test_create_task_refusals_write_nothing(world):
    t = await gaps_world(world)
    report = await t.reviewer_b.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    finding = report.findings[0]
    other = await t.owner_b.projects.create(ProjectCreate(name=unique("Elsewhere ")))
    with pytest.raises(errors.Invalid, match="same project"):
        await t.reviewer_b.capability_gaps.create_task(finding.id, FindingTaskCreate(project_id=other.id))
    with pytest.raises(errors.Forbidden):
        await t.viewer_b.capability_gaps.create_task(finding.id, FindingTaskCreate(project_id=t.project_id))
    with pytest.raises(errors.NotFound):
        await t.reviewer_b.capability_gaps.create_task("01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                                       FindingTaskCreate(project_id=t.project_id))
    tasks = await t.owner_b.tasks.list(project_id=t.project_id)
    assert [x.title for x in tasks.items] == ["Import ledger"]
    assert (await t.reviewer_b.capability_gaps.list_findings(status="open")).items[0].task_id is None


async def test_outsiders_and_viewers(world):
    t = await gaps_world(world)
    report = await t.reviewer_b.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    stranger = await world.as_(await user(world))
    with pytest.raises(errors.NotFound):
        await stranger.capability_gaps.get_report(report.id)
    assert (await stranger.capability_gaps.list_findings()).items == []
    own = await stranger.capability_gaps.run_report(CapabilityGapReportRun())
    assert own.findings == [] and own.scanned["review"] == 0
    with pytest.raises(errors.NotFound):
        await stranger.capability_gaps.run_report(CapabilityGapReportRun(project_id=t.project_id))
    viewer_role = await world.as_(await user(world, role="viewer"))
    with pytest.raises(errors.Forbidden):
        await viewer_role.capability_gaps.run_report(CapabilityGapReportRun())
