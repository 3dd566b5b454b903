"""Demo data of the tasks slice: a believable board per demo project, with
dependencies, review decisions, agent runs and finished agent jobs.

Runs on the demo seed's fixed clock and seeded ids, so it is the same every time.
Jobs are run to the end here (``JobRunner.run_one``): a demo never starts with work
queued, so opening it does not change it.
"""

from __future__ import annotations

from typing import Any

from ..schemas.agent_jobs import AgentJobCreate
from ..schemas.tasks import (
    AgentRunCreate,
    AgentRunStatus,
    AgentRunUpdate,
    TaskCreate,
    TaskEventCreate,
    TaskEventKind,
    TaskPriority,
)
from .jobs import JobRunner
from .services import Services

# (key, title, priority, assignee, description, blocked_by keys)
ATLAS = [
    ("scope", "Freeze the 1.0 scope", "high", "maya",
     "List what ships in 1.0 and what waits for 1.1; agree it with the three pilot customers.", []),
    ("jobs", "Durable job runner with leases", "urgent", "devon",
     "Jobs survive a restart: claim with a lease, heartbeat, re-queue what a dead process left.", ["scope"]),
    ("review-queue", "Review queue: one-key decisions", "high", "devon",
     "Approve, rework or block from the keyboard; batch decisions with a receipt.", ["scope"]),
    ("cli", "CLI: serve and users commands", "medium", "devon",
     "crewos-tui serve --demo, users add/list/set-password.", []),
    ("release-notes", "Write the release notes", "medium", "priya",
     "Cover durable jobs, the review queue and the new CLI; link the release plan.", ["jobs", "review-queue"]),
    ("docs", "Docs site: getting started", "medium", "priya",
     "Install, first project, first task on the board, first agent job.", ["cli"]),
    ("load-test", "Load test: 10,000 tasks on one board", "high", "priya",
     "The board must show first cards within 0.3 s and page each column.", ["jobs"]),
    ("beta-invites", "Send beta invitations", "high", "maya",
     "Three customers; each gets a data dir template and a named contact.", ["release-notes", "docs"]),
    ("security", "Security review of API keys", "urgent", "maya",
     "Hashing, prefixes, scopes, revocation; write down what we checked.", []),
    ("runbooks", "On-call runbooks", "low", "devon",
     "What to do when a job is stuck, a lease never expires, or the database is locked.", []),
    ("pricing", "Draft pilot pricing", "low", None,
     "Token budgets per team; a simple monthly plan for the pilots.", []),
    ("demo-video", "Record the demo video", "medium", "priya",
     "Five minutes: board, review queue, a job surviving a restart.", ["beta-invites"]),
    ("sso", "SSO login for pilots", "medium", None, "OIDC providers listed at login.", []),
    ("telemetry", "Opt-in usage telemetry", "low", "devon", "Dropped for 1.0: no network by default.", []),
    ("migration", "Schema migration tests", "high", "devon", "Walk a v1 database forward; refuse newer ones.", []),
]

HARBOR = [
    ("lit", "Literature review: berth scheduling", "high", "priya",
     "Twenty sources on berth allocation; note methods and data used.", []),
    ("interviews", "Interview five port operators", "high", "maya",
     "Berth planners at five ports; notes in sources/.", []),
    ("synthesis", "Synthesis: where agents can help", "medium", "priya",
     "Cross the literature with the interviews; three candidate use cases.", ["lit", "interviews"]),
    ("figures", "Chapter 2 figures", "low", "maya", "Delay cascades from pilot availability.", ["synthesis"]),
    ("draft", "Draft the 20-page report", "medium", "priya", "Structure agreed with the steering group.",
     ["synthesis"]),
]

NORTHWIND = [
    ("maps", "Current-state process maps", "high", "devon", "Order to cash, and warehouse returns.", []),
    ("sponsor", "Weekly update to R. Okafor", "medium", "maya", "Every Friday: progress, risks, decisions.", []),
    ("options", "Target operating model options", "high", "maya", "Three options with costs and risks.",
     ["maps"]),
    ("workshop", "Run the options workshop", "medium", "maya", "Half a day with the client's leads.",
     ["options"]),
]

WEBSITE = [
    ("hero", "New landing page hero", "high", "devon", "One sentence, one picture, one button.", []),
    ("links", "Fix broken links in the docs theme", "medium", "devon", "The crawler found 14.", []),
    ("theme", "Docs theme: dark mode", "low", "devon", "Follow the system setting.", []),
]


async def _board(svc: Services, as_: dict[str, Any], users: dict[str, Any], owner: str, project_id: str,
                 specs: list[tuple[Any, ...]]) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    for key, title, priority, assignee, description, blockers in specs:
        tasks[key] = await svc.tasks.create(as_[owner], TaskCreate(
            project_id=project_id, title=title, priority=priority, description=description,
            assignee_id=users[assignee].id if assignee else None,
            blocked_by=[tasks[b].id for b in blockers]))
    return tasks


async def _move(svc: Services, who: Any, task: Any, *states: str, reason: str = "") -> None:
    for state in states:
        await svc.tasks.set_status(who, task.id, state, reason)


async def _finish(svc: Services, who: Any, reviewer: Any, task: Any, comment: str = "") -> None:
    await _move(svc, who, task, "in_progress", "review")
    await svc.tasks.approve(reviewer, task.id, comment)


async def _seed_tasks(svc: Services, as_: dict[str, Any], users: dict[str, Any], projects: dict[str, Any]) -> None:
    maya, devon, priya = as_["maya"], as_["devon"], as_["priya"]
    atlas, harbor = projects["Atlas Launch"], projects["Harbor Research"]
    runner = JobRunner(svc, owner="demo-seed")

    a = await _board(svc, as_, users, "maya", atlas.id, ATLAS)
    await _finish(svc, maya, maya, a["scope"], "Agreed with all three pilots.")
    await _finish(svc, devon, maya, a["cli"], "Works on a clean machine.")
    await _finish(svc, devon, priya, a["migration"])
    await _move(svc, devon, a["jobs"], "in_progress", "review")
    await svc.tasks.add_event(devon, a["jobs"].id, TaskEventCreate(
        message="Leases renew every 10 s; a dead process's job is re-queued after 30 s."))
    await _move(svc, devon, a["review-queue"], "in_progress")
    await svc.tasks.add_event(devon, a["review-queue"].id, TaskEventCreate(kind=TaskEventKind.progress,
                                                                            message="Batch receipts done."))
    await _move(svc, maya, a["security"], "in_progress", "review")
    await svc.tasks.request_rework(maya, a["security"].id, "Add the key-rotation checklist before approving.")
    await svc.tasks.block(priya, a["docs"].id, "Waiting for the final CLI flags.")
    await _move(svc, devon, a["telemetry"], "cancelled", reason="Dropped for 1.0: no network by default.")
    await _move(svc, devon, a["runbooks"], "in_progress", "failed", reason="The draft was lost with the wiki.")
    run = await svc.tasks.create_agent_run(devon, a["runbooks"].id, AgentRunCreate(
        agent="worker", summary="Could not find the old wiki export.", input_tokens=412, output_tokens=0))
    await svc.tasks.update_agent_run(devon, run.id, AgentRunUpdate(status=AgentRunStatus.failed))

    # A task the worker agent did end to end (now waiting for review), and a project update.
    rota = await svc.tasks.create(maya, TaskCreate(
        project_id=atlas.id, title="Set up the review rota", priority=TaskPriority.medium,
        assignee_id=users["priya"].id,
        description="Who approves agent output, and when: a weekly rota for the review queue."))
    await svc.agent_jobs.create(priya, AgentJobCreate(kind="task_run", task_id=rota.id))
    await runner.run_one()
    await svc.agent_jobs.create(maya, AgentJobCreate(kind="project_update", project_id=atlas.id))
    await runner.run_one()
    # A job someone changed their mind about.
    spare = await svc.agent_jobs.create(maya, AgentJobCreate(kind="project_update", project_id=harbor.id))
    await svc.agent_jobs.cancel(maya, spare.id)

    h = await _board(svc, as_, users, "priya", harbor.id, HARBOR)
    await _finish(svc, priya, priya, h["interviews"], "Notes are in sources/.")
    await _move(svc, priya, h["lit"], "in_progress", "review")
    await svc.tasks.add_event(maya, h["lit"].id, TaskEventCreate(message="Add the 2019 Rotterdam study."))

    n = await _board(svc, as_, users, "maya", projects["Northwind Advisory"].id, NORTHWIND)
    await _move(svc, maya, n["maps"], "in_progress")
    await _move(svc, maya, n["sponsor"], "in_progress", "review")

    w = await _board(svc, as_, users, "devon", projects["Website Refresh"].id, WEBSITE)
    await _finish(svc, devon, devon, w["links"])
    await _move(svc, devon, w["hero"], "in_progress")
