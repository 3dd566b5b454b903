"""Demo data of the knowledge slice: a small wiki worth searching and tidying.

Three namespaces — ``studio/engineering`` (the Atlas runtime), ``studio/handbook``
and ``field/ops`` — with typed links between entries, an ingested runbook, a project
document ingested by reference, a near-duplicate and an orphan, so one meditation
run fills the governance queue with a merge, links and orphans. One web-research run
waits for review. Atlas has a weekly report artifact with two revisions and a tidied
HTML status page (the project update job of the tasks demo left one more).

Grants: devon and priya ``studio/*``, sam (viewer) ``studio/handbook``, lee
``field/*``; maya is an admin and sees everything.
"""

from __future__ import annotations

from typing import Any

from ..principal import Principal
from ..schemas import (
    ArtifactRevisionCreate,
    GovernanceActionRequest,
    KnowledgeEntryCreate,
    KnowledgeIngest,
    MeditationTrigger,
    ResearchRunCreate,
    ResearchSource,
    UserUpdate,
    WikiLinkCreate,
)
from ..schemas.knowledge import GovernanceAction, LinkKind
from .services import Services
from .services.artifacts import create_artifact

ENG, BOOK, OPS = "studio/engineering", "studio/handbook", "field/ops"
GRANTS = {"devon": ["studio/*"], "priya": ["studio/*"], "sam": ["studio/handbook"], "lee": ["field/*"]}

ENTRIES = [
    ("jobs", ENG, "Durable jobs", ["atlas", "runtime"],
     ("Durable jobs survive a restart. On start, the runner re-queues jobs whose lease ran out; after three "
      "attempts a job is marked **interrupted** instead of running forever.\n\n"
      "Handlers must be safe to run again: a re-run starts from the beginning.")),
    ("leases", ENG, "Job leases and heartbeats", ["atlas", "runtime"],
     ("A runner claims a job with a lease and renews it with a heartbeat every 10 seconds. A lease that runs "
      "out (30 seconds) lets another runner take the job.\n\n- Claims are one conditional UPDATE.\n"
      "- Every write checks the lease is still held.")),
    ("queue", ENG, "Review queue", ["atlas", "review"],
     ("Agent output waits in the review queue until a person approves, rejects or quarantines it. "
      "Batch decisions are all-or-nothing and leave a receipt.")),
    ("release", ENG, "Release process", ["atlas", "release"],
     ("Cut a release branch, run the full test suite, tag the release and publish the notes. The release "
      "manager announces the tag in the team channel and watches the canary for one hour.")),
    ("release2", ENG, "Release steps", ["release"],
     ("Cut a release branch, run the full test suite, tag the release and publish the notes. The release "
      "manager announces the tag in the team channel and watches the canary for one hour. Roll back if the "
      "error rate doubles.")),
    ("onboarding", BOOK, "Onboarding", ["people"],
     ("Your first week: laptop setup on day one, a buddy for questions, and a shadow shift on the review "
      "rota by Friday. Read the working hours page before your first on-call week.")),
    ("hours", BOOK, "Working hours", ["people"],
     "Core hours are 10:00-16:00 UTC. On-call weeks rotate; the on-call person may start late after a page."),
    ("expenses", BOOK, "Expenses", ["finance"],
     "Submit receipts within 30 days. Travel over 500 EUR needs approval before booking."),
    ("wifi", BOOK, "Office wifi", ["office"], "The guest network password is on the kitchen fridge."),
    ("berths", OPS, "Berth scheduling basics", ["harbor"],
     ("Berth windows are negotiated weekly with the shipping lines. A late vessel cascades into the next "
      "window, so planners keep a buffer berth.")),
    ("pilots", OPS, "Pilot availability", ["harbor"],
     "Harbour pilots work in shifts; a missing pilot delays departures more than weather does."),
]

LINKS = [
    ("jobs", "leases", "depends_on"), ("queue", "jobs", "references"), ("release", "queue", "references"),
    ("onboarding", "hours", "related"), ("pilots", "berths", "part_of"),
]

RUNBOOK = """# On-call runbook

## Paging
The pager fires for error-rate and queue-depth alerts. Acknowledge within five minutes.

## Triage
Check the job runner dashboard first: stale leases mean a runner died. Jobs re-queue by themselves
after the lease runs out.

## Escalation
Page the release manager if a rollback is needed, and note the incident in the weekly update.
"""

WEEKLY = """# Atlas weekly report

## Done
- Durable jobs resume after a restart.
- The review queue has batch decisions.

## Next
- Write the on-call runbooks.
"""

STATUS_HTML = ("<html><head><title>Atlas status</title></head><body><div><h1>Atlas   status</h1>"
               "<p>Beta on <b>2026-03-20</b>.<p></p><ul><li>Runtime: green<li>Docs: amber<li></ul>"
               "<span></span></div></body></html>")


async def _seed_knowledge(svc: Services, as_: dict[str, Any], users: dict[str, Any],
                          projects: dict[str, Any]) -> None:
    system = Principal.system()
    for name, grants in GRANTS.items():
        await svc.admin.update_user(system, users[name].id, UserUpdate(namespace_grants=grants))
    who = {name: await svc.auth.principal_for(name) for name in as_}  # with their grants now
    maya, devon, priya, lee = who["maya"], who["devon"], who["priya"], who["lee"]
    author = {ENG: devon, BOOK: priya, OPS: lee}

    ids: dict[str, str] = {}
    home: dict[str, str] = {}
    for key, ns, title, tags, body in ENTRIES:
        entry = await svc.knowledge.create(author[ns], KnowledgeEntryCreate(namespace=ns, title=title, body=body,
                                                                            tags=tags))
        ids[key], home[key] = entry.id, ns
    for source, target, kind in LINKS:
        await svc.knowledge.create_link(author[home[source]], ids[source],
                                        WikiLinkCreate(target_id=ids[target], kind=LinkKind(kind)))

    runbook = await svc.knowledge.ingest(devon, KnowledgeIngest(namespace=ENG, filename="on-call.md",
                                                                content=RUNBOOK, tags=["atlas", "ops"]))
    triage = runbook.entry_ids[1]  # Paging, Triage, Escalation
    await svc.knowledge.create_link(devon, triage, WikiLinkCreate(target_id=ids["leases"], kind=LinkKind.references))
    atlas = projects["Atlas Launch"]
    docs = (await svc.projects.list_documents(maya, atlas.id, limit=50)).items
    spec = next(d for d in docs if d.filename == "durable-jobs.md")
    await svc.knowledge.ingest(devon, KnowledgeIngest(namespace=ENG, project_id=atlas.id, document_id=spec.id,
                                                      tags=["atlas", "spec"]))

    # One meditation pass fills the governance queue; one proposal is already decided.
    await svc.knowledge.trigger_meditation(maya, MeditationTrigger())
    queue = await svc.knowledge.governance(maya, kind="orphan")
    wifi = next(i for i in queue.items if i.entry_id == ids["wifi"])
    await svc.knowledge.apply_governance(priya, GovernanceActionRequest(
        item_id=wifi.id, action=GovernanceAction.accept, comment="Fine on its own."))

    await svc.knowledge.start_research(maya, ResearchRunCreate(
        topic="berth scheduling delays", namespace=OPS, tags=["harbor"], sources=[
            ResearchSource(url="https://example.org/port-calls", title="Why port calls run late",
                           content="Berth scheduling delays start with late arrivals: one delayed vessel shifts "
                                   "every later berth window, and pilot shortages make the delays longer."),
            ResearchSource(url="https://example.org/ship-paint", title="Hull paint colours",
                           content="A short history of hull paint colours and why most cargo ships are red "
                                   "below the waterline."),
            ResearchSource(url="https://example.org/berth-planning-guide"),
        ]))

    # Artifacts of Atlas: a weekly report with an edit, and a status page that was tidied.
    async with svc.ctx.db.transaction() as s:
        report = await create_artifact(svc.ctx, s, maya, filename="atlas-weekly.md", content=WEEKLY,
                                       content_type="text/markdown", project_id=atlas.id, kind="report",
                                       origin="agent:reporter")
        page = await create_artifact(svc.ctx, s, maya, filename="atlas-status.html", content=STATUS_HTML,
                                     content_type="text/html", project_id=atlas.id, kind="html",
                                     origin="agent:reporter")
        report_token, page_token = report.reference_token, page.reference_token
    await svc.artifacts.save_revision(maya, report_token, ArtifactRevisionCreate(
        source=WEEKLY + "- Record the demo.\n", note="added the demo recording", base_revision=1))
    await svc.artifacts.layout_cleanup(maya, page_token)
