"""Demo data: a small, realistic workspace, dated as if it had just happened.

The seed runs on its own stepping clock and seeded id generator, so ids, times and
order depend only on the "now" it is given: the history runs ``DEMO_SPAN`` up to a
few minutes before that now (by default the real time, so a fresh ``--demo`` shows
ages of minutes to days and its own "today"). Tests pin the now, so their demo data,
and the snapshots, never change (``tests/conftest.py``). Every demo user's password
is ``DEMO_PASSWORD`` (documented in the README), so ``serve --demo`` can be logged
into. Later slices add their own demo data here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..ids import Clock, FixedClock, IdGenerator
from ..principal import Principal
from ..schemas import AccessRequestCreate, ProjectCreate, UserCreate
from ..schemas.auth import Role
from ..schemas.projects import FolderAction, FolderUpdateCreate, ProjectRole, RequestStatus
from .context import Settings
from .services import Services

DEMO_PASSWORD = "demo-password"
DEMO_USER = "maya"
#: The seed's clock advances this much per reading (each row, event, audit entry reads it).
DEMO_STEP = timedelta(minutes=7)
#: From the demo's first item to its "now": its ~1,530 readings take 7 days 10 hours 16
#: minutes, so the newest item is dated about a quarter of an hour before now. Data
#: added to the seed lengthens that; a test says when this must grow with it.
DEMO_SPAN = timedelta(days=7, hours=10, minutes=30)

USERS = [
    ("maya", "admin", "studio"),
    ("devon", "member", "studio"),
    ("priya", "member", "studio"),
    ("sam", "viewer", "studio"),
    ("lee", "member", "field"),
]

BRIEF = """# {name}: project brief

## Goal
{goal}

## Scope
- In: {scope_in}
- Out: {scope_out}

## Stakeholders
{stakeholders}

## Success looks like
{success}
"""

PROJECTS = [
    dict(owner="maya", name="Atlas Launch", template="software",
         description="Ship the Atlas agent runtime 1.0 to the first three customers.",
         goal="Release Atlas 1.0 with durable jobs and a review queue.",
         scope_in="runtime, CLI, docs", scope_out="hosted billing",
         stakeholders="Maya (owner), Devon (engineering), Priya (QA)",
         success="Three customers run Atlas in production by the end of Q2.",
         members=[("devon", "editor"), ("priya", "editor"), ("sam", "viewer")]),
    dict(owner="priya", name="Harbor Research", template="research",
         description="Survey how port operators schedule berths, and where agents can help.",
         goal="A 20-page report on berth scheduling practice.", scope_in="interviews, literature",
         scope_out="building software", stakeholders="Priya (lead), Maya (sponsor)",
         success="Report accepted by the steering group.",
         members=[("maya", "editor")]),
    dict(owner="maya", name="Northwind Advisory", template="consulting",
         description="Operating-model review for Northwind Logistics.",
         goal="Recommend a target operating model.", scope_in="process maps, interviews",
         scope_out="implementation", stakeholders="Maya, Devon; client sponsor: R. Okafor",
         success="Client signs off the recommendations.",
         members=[("devon", "viewer")]),
    dict(owner="devon", name="Website Refresh", template="blank",
         description="New landing pages and docs site.",
         goal="Relaunch the marketing site.", scope_in="landing pages, docs theme", scope_out="blog migration",
         stakeholders="Devon (owner)", success="New site live with no broken links.",
         members=[("maya", "owner")]),
    dict(owner="maya", name="Quarterly Planning", template="blank",
         description="Q1 planning notes (closed).",
         goal="Agree Q1 priorities.", scope_in="roadmap", scope_out="budgets",
         stakeholders="Leadership team", success="Priorities published.",
         members=[], archive=True),
]

EXTRA_DOCS = {
    "Atlas Launch": [
        ("docs", "release-plan.md",
         "# Release plan\n\n| Milestone | Date |\n|---|---|\n| Beta | 2026-03-20 |\n| 1.0 | 2026-04-15 |\n"),
        ("specs", "durable-jobs.md",
         "# Durable jobs\n\nJobs survive a restart: on start, running jobs are resumed or marked interrupted.\n"),
    ],
    "Harbor Research": [
        ("sources", "interview-notes.md",
         "# Interview notes\n\n- Berth windows are negotiated weekly.\n- Delays cascade from pilot availability.\n"),
    ],
}


def demo_start(now: datetime | None = None) -> datetime:
    """When the demo's history begins, for a demo seeded at ``now`` (default: the real
    time, to the minute)."""
    now = (now or Clock().now()).astimezone(UTC).replace(second=0, microsecond=0)
    return now - DEMO_SPAN


async def seed_demo(path: Path | str, settings: Settings | None = None, *, now: datetime | None = None) -> None:
    """Create the demo workspace in a new database file at ``path``, its history ending
    a little before ``now`` (default: the real time)."""
    clock = FixedClock(demo_start(now), DEMO_STEP)
    svc = await Services.open(path, clock=clock, ids=IdGenerator(clock, seed=20260302),
                              settings=settings or Settings())
    try:
        await _seed(svc)
    finally:
        await svc.close()


async def _seed(svc: Services) -> None:
    system = Principal.system()
    users = {}
    for name, role, team in USERS:
        users[name] = await svc.auth.create_user(
            system, UserCreate(username=name, password=DEMO_PASSWORD, role=Role(role), team=team))
    as_ = {name: await svc.auth.principal_for(name) for name in users}
    projects = {}
    for spec in PROJECTS:
        owner = as_[spec["owner"]]
        project = await svc.projects.create(owner, ProjectCreate(
            name=spec["name"], description=spec["description"], template=spec["template"]))
        projects[spec["name"]] = project
        for member, role in spec["members"]:
            await svc.projects.upsert_member(owner, project.id, users[member].id, ProjectRole(role))
        brief = BRIEF.format(**{k: spec[k] for k in ("goal", "scope_in", "scope_out", "stakeholders", "success")},
                             name=spec["name"])
        await svc.projects.upload_document(owner, project.id, "brief.md", brief.encode(), folder_path="docs")
        for folder, filename, text in EXTRA_DOCS.get(spec["name"], []):
            await svc.projects.upload_document(owner, project.id, filename, text.encode(), folder_path=folder)

    atlas, harbor, northwind = projects["Atlas Launch"], projects["Harbor Research"], projects["Northwind Advisory"]
    # Pending work for the demo user to clear.
    await svc.projects.create_access_request(
        as_["priya"], northwind.id, AccessRequestCreate(message="I'd like to help with the interviews.",
                                                        role=ProjectRole.editor))
    await svc.projects.create_access_request(
        as_["sam"], harbor.id, AccessRequestCreate(message="Read access for the steering group pack, please."))
    await svc.projects.propose_folder_update(
        as_["devon"], atlas.id, FolderUpdateCreate(action=FolderAction.create, path="docs/runbooks",
                                                   reason="On-call runbooks need a home before beta."))
    await svc.projects.propose_folder_update(
        as_["devon"], atlas.id, FolderUpdateCreate(action=FolderAction.rename, path="releases",
                                                   new_path="docs/releases",
                                                   reason="Keep all prose under docs/."))
    await svc.projects.propose_folder_update(
        as_["maya"], harbor.id, FolderUpdateCreate(action=FolderAction.create, path="drafts/figures",
                                                   reason="Figures for chapter 2."))
    # A decided request, so history is not empty.
    ar = await svc.projects.create_access_request(
        as_["devon"], harbor.id, AccessRequestCreate(message="Can I read the interview notes?"))
    await svc.projects.decide_access_request(as_["priya"], harbor.id, ar.id,
                                             _decision("approved", "Welcome aboard."))
    for spec in PROJECTS:
        if spec.get("archive"):
            await svc.projects.archive(as_[spec["owner"]], projects[spec["name"]].id)
    from .demo_notifications import _seed_notifications  # noqa: PLC0415 - notifications slice

    await _seed_notifications(svc, as_, users, projects)
    from .demo_tasks import _seed_tasks  # noqa: PLC0415 - tasks slice

    await _seed_tasks(svc, as_, users, projects)
    from .demo_tokens import _seed_tokens  # noqa: PLC0415 - tokenization slice

    await _seed_tokens(svc, as_, users, projects)
    from .demo_chat import _seed_chat  # noqa: PLC0415 - chat slice

    await _seed_chat(svc, as_, users, projects)
    from .demo_review import _seed_review  # noqa: PLC0415 - review slice

    await _seed_review(svc, as_, users, projects)
    from .demo_knowledge import _seed_knowledge  # noqa: PLC0415 - knowledge slice

    await _seed_knowledge(svc, as_, users, projects)
    from .demo_admin import _seed_admin  # noqa: PLC0415 - admin slice

    await _seed_admin(svc, as_, users, projects)


def _decision(status: str, comment: str):  # noqa: ANN202
    from ..schemas import AccessRequestDecision

    return AccessRequestDecision(status=RequestStatus(status), comment=comment)

