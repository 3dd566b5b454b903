"""Demo data of the review slice: a queue worth clearing, some history, a validation
log, one scenario test run and a capability-gap report.

Maya (the demo user, an admin) finds eight items pending across Atlas and Harbor —
agent outputs, test results, drafts, an urgent customer email — plus one in
quarantine. Three are decided already (approved, rejected, quarantined), so the
history, the stats and the gap report have something to show.
"""

from __future__ import annotations

import base64
from typing import Any

from ..schemas import (
    CapabilityGapReportRun,
    FindingStatusUpdate,
    ReviewAttachmentIn,
    ReviewItemCreate,
    TranscriptMessageIn,
    ValidationRequest,
    ValidationRubric,
)
from ..schemas.capability_gaps import GapStatus

WEEKLY = """# Atlas weekly update

## Summary
Beta is on track for 2026-03-20. Durable jobs survive restarts; the review queue is in QA.

## Risks
- Pilot customer onboarding depends on the runbooks (not written yet).

## Next steps
- Write the on-call runbooks.
- Record the demo.

Sources: release-plan.md, durable-jobs.md
"""

RELEASE_NOTES = """# Atlas 0.9 release notes

## New
- Durable agent jobs: queued, leased, resumed after a restart.
- Review queue with batch decisions.

## Fixed
- Cancelling a job now stops it within a second.
"""

CHAPTER = """# Chapter 2: How berth windows are set

Port operators negotiate berth windows weekly [1]. Delays cascade from pilot availability [2].

## Findings
Most operators plan in 4-hour windows (Okafor, 2024).

References: [1] interview notes, site A; [2] interview notes, site C.
"""

TRANSCRIPT = [
    ("user", "Prepare the project update for Atlas", None),
    ("assistant", "Here is the weekly update, built from the release plan and the durable-jobs spec.", "reporter"),
    ("user", "Add the runbook risk", None),
    ("assistant", "Added: pilot onboarding depends on the runbooks.", "reporter"),
]


def _messages(spec: list[tuple[str, str, str | None]]) -> list[TranscriptMessageIn]:
    return [TranscriptMessageIn(role=r, content=c, name=n) for r, c, n in spec]


async def _seed_review(svc: Any, as_: dict[str, Any], users: dict[str, Any], projects: dict[str, Any]) -> None:
    maya, devon, priya = as_["maya"], as_["devon"], as_["priya"]
    atlas, harbor = projects["Atlas Launch"], projects["Harbor Research"]

    async def submit(who: Any, title: str, **kw: Any) -> Any:
        return await svc.review.submit(who, ReviewItemCreate(title=title, **kw))

    # Decided first (older), so the pending queue is the newer work.
    changelog = await submit(devon, "Changelog for 0.8", kind="doc", project_id=atlas.id,
                             payload="# 0.8\n- Faster project lists\n- Key rotation")
    await svc.review.approve(priya, changelog.id, "Matches the merged changes.")
    status_mail = await submit(devon, "Status email to pilots (draft 1)", kind="customer_email", project_id=atlas.id,
                               payload={"to": "pilots@atlas.example", "subject": "Beta dates",
                                        "body": "Beta ships 2026-03-01 with full billing."})
    await svc.review.reject(maya, status_mail.id, "Dates and scope don't match the release plan.")
    export = await submit(devon, "Customer data export script", kind="agent_output", project_id=atlas.id,
                          source="agent", source_ref="helper", priority="high",
                          payload={"output": "export CREWOS_API_KEY=crewos_live_... && ./export.sh"})
    await svc.review.quarantine(priya, export.id, "Contains an API key; needs a security review.")

    await submit(devon, "Weekly update: Atlas beta", kind="agent_output", project_id=atlas.id, priority="high",
                 source="agent", source_ref="reporter", summary="The reporter's weekly update for the steering group.",
                 payload=WEEKLY, transcript=_messages(TRANSCRIPT), requested_reviewer_ids=[users["maya"].id])
    results = "suite,passed,failed\nruntime,98,1\ncli,44,2\n"
    await submit(priya, "Beta regression results", kind="test_report", project_id=atlas.id,
                 summary="142 passed, 3 failed; the failures are all in job cancellation.",
                 payload={"passed": 142, "failed": 3,
                          "failing": ["cancel_mid_job", "cancel_twice", "cli_cancel_exit_code"]},
                 attachments=[ReviewAttachmentIn(filename="results.csv", content=results)])
    await submit(devon, "Release notes draft 0.9", kind="doc", project_id=atlas.id, payload=RELEASE_NOTES,
                 attachments=[ReviewAttachmentIn(filename="release-notes.md", content=RELEASE_NOTES)])
    await submit(devon, "Email to pilot customers: beta dates", kind="customer_email", project_id=atlas.id,
                 priority="urgent", summary="Goes out Monday; needs sign-off today.",
                 payload={"to": "pilots@atlas.example", "subject": "Atlas beta on 2026-03-20",
                          "body": "Beta starts 2026-03-20. Onboarding calls the week after."},
                 requested_reviewer_ids=[users["maya"].id])
    tasks = {"tasks": [{"title": "Write on-call runbooks", "priority": "high"},
                       {"title": "Record the demo", "priority": "medium"},
                       {"title": "Email the pilot customers", "priority": "medium"}]}
    await submit(devon, "Proposed tasks: launch checklist", kind="plan", project_id=atlas.id, source="agent",
                 source_ref="planner", payload=tasks)
    await submit(priya, "Runbook: restarting the job runner", kind="doc", project_id=atlas.id, priority="low",
                 payload="# Restarting the job runner\n1. Stop the server.\n2. Start it; running jobs resume.")
    await submit(priya, "Chapter 2 draft: berth windows", kind="doc", project_id=harbor.id, payload=CHAPTER,
                 requested_reviewer_ids=[users["maya"].id])
    logo = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
    await submit(priya, "Interview summary: pilot availability", kind="research_note", project_id=harbor.id,
                 payload={"sites": 3, "finding": "Pilot shortages explain most delays."},
                 attachments=[ReviewAttachmentIn(filename="site-map.png", content_base64=logo)])

    # A validation log: the weekly update passes a report rubric; the status email fails one.
    report_rubric = ValidationRubric(required_sections=["Summary", "Risks", "Next steps"], require_citations=True)
    await svc.validation.validate(maya, ValidationRequest(output=WEEKLY, project_id=atlas.id, rubric=report_rubric,
                                                          label="weekly update"))
    await svc.validation.validate(maya, ValidationRequest(
        item_id=status_mail.id, label="status email", rubric=ValidationRubric(
            json_schema={"type": "object", "required": ["to", "subject", "body", "cc"]}, min_chars=None)))

    # One scenario run, executed here in the seeding process (no job runner runs during seeding).
    from .services.testing import create_run_row
    from .services.testing.runner import execute_run

    async with svc.ctx.db.transaction() as s:
        run = await create_run_row(svc.ctx, s, maya, None, atlas.id, "demo nightly", "inline")
    await execute_run(svc.ctx, maya, run.id)

    report = await svc.capability_gaps.run_report(maya, CapabilityGapReportRun())
    first = next((f for f in report.findings if f.capability.startswith("agent:reporter")), None)
    if first is not None:
        await svc.capability_gaps.update_finding_status(maya, first.id, FindingStatusUpdate(
            status=GapStatus.acknowledged, note="Reporter should cite the documents it used."))
