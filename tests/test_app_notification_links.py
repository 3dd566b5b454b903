"""Enter on a notification opens exactly what it is about, for every kind the service
emits (``KINDS``: a new kind without a case here fails).

Each case makes a notification of its kind for the demo user (maya) through the real
service calls, as another user, opens it from the notifications screen, and checks the
screen that opened and the id of what it has selected against the notification's link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Select

from crewos_tui.backend.errors import Conflict
from crewos_tui.backend.local.services.notifications import KINDS
from crewos_tui.backend.schemas import Notification
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.board import BoardScreen
from crewos_tui.screens.ledger import LedgerScreen
from crewos_tui.screens.notifications import LINK_MODES, NotificationsScreen
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.screens.review import ReviewScreen
from crewos_tui.screens.sessions import SessionsScreen
from crewos_tui.widgets.task_detail import TaskDetailScreen

from .app_support import make_app, open_mode, settle

SIZE = (80, 24)
Make = Callable[[Any], Awaitable[None]]


# ---- making a notification of each kind for maya, through the services ------------------


async def ids(svc: Any) -> dict[str, Any]:
    """Principals by username and projects by name."""
    from crewos_tui.backend.principal import Principal

    people = {name: await svc.auth.principal_for(name) for name in ("maya", "priya", "devon", "sam")}
    projects = {p.name: p for p in (await svc.projects.list(Principal.system(), limit=200)).items}
    return {**people, **projects}


async def none_needed(_svc: Any) -> None:
    """The demo's own history has one of this kind for maya already."""


async def role_changed(svc: Any) -> None:
    from crewos_tui.backend.schemas.projects import ProjectRole

    w = await ids(svc)
    await svc.projects.upsert_member(w["devon"], w["Website Refresh"].id, w["maya"].user_id, ProjectRole.editor)


async def removed(svc: Any) -> None:
    w = await ids(svc)
    await svc.projects.remove_member(w["devon"], w["Website Refresh"].id, w["maya"].user_id)


async def archived(svc: Any) -> None:
    w = await ids(svc)
    await svc.projects.archive(w["devon"], w["Website Refresh"].id)


def access_decided(status: str) -> Make:
    async def make(svc: Any) -> None:
        from crewos_tui.backend.schemas import AccessRequestCreate, ProjectCreate
        from crewos_tui.backend.schemas.projects import AccessRequestDecision, RequestStatus

        w = await ids(svc)
        project = await svc.projects.create(w["devon"], ProjectCreate(name="Devon's lab"))
        req = await svc.projects.create_access_request(w["maya"], project.id, AccessRequestCreate(message="me too"))
        decision = AccessRequestDecision(status=RequestStatus(status))
        await svc.projects.decide_access_request(w["devon"], project.id, req.id, decision)

    return make


def folder_decided(approve: bool) -> Make:
    async def make(svc: Any) -> None:
        w = await ids(svc)
        harbor = w["Harbor Research"].id
        pending = (await svc.projects.list_folder_updates(w["priya"], harbor, limit=50)).items
        mine = next(u for u in pending if u.proposed_by == "maya")
        if approve:
            await svc.projects.approve_folder_update(w["priya"], harbor, mine.id)
        else:
            await svc.projects.reject_folder_update(w["priya"], harbor, mine.id, "Not yet.")

    return make


async def token_rejected(svc: Any) -> None:
    w = await ids(svc)
    atlas = w["Atlas Launch"].id
    pending = (await svc.tokenization.list_requests(w["priya"], atlas, limit=50, status="pending")).items
    burn = next(r for r in pending if r.requested_by_name == "maya")
    await svc.tokenization.reject_request(w["priya"], atlas, burn.id, "Keep the reserve.")


async def token_failed(svc: Any) -> None:
    """maya approves devon's transfer of more than the treasury holds; devon's execution fails."""
    w = await ids(svc)
    atlas = w["Atlas Launch"].id
    pending = (await svc.tokenization.list_requests(w["maya"], atlas, limit=50, status="pending")).items
    too_much = next(r for r in pending if r.memo.startswith("Everything"))
    await svc.tokenization.approve_request(w["maya"], atlas, too_much.id)
    with pytest.raises(Conflict, match="insufficient balance"):
        await svc.tokenization.execute_request(w["devon"], atlas, too_much.id)


async def wallet_changed(svc: Any) -> None:
    """devon pays maya from his wallet: priya approves, devon executes."""
    from crewos_tui.backend.schemas.tokens import TokenOp, TokenRequestCreate

    w = await ids(svc)
    atlas = w["Atlas Launch"].id
    req = await svc.tokenization.create_request(
        w["devon"],
        atlas,
        TokenRequestCreate(kind=TokenOp.transfer, amount=100, from_wallet="devon", to_wallet="maya", memo="Coffee"),
    )
    await svc.tokenization.approve_request(w["priya"], atlas, req.id)
    await svc.tokenization.execute_request(w["devon"], atlas, req.id)


async def job_failed(svc: Any) -> None:
    """One of maya's jobs fails as the runner fails it (``job_event``, in one transaction)."""
    from crewos_tui.backend.local.jobs import RUNNER
    from crewos_tui.backend.local.services.agent_jobs import job_event
    from crewos_tui.backend.local.tables import AgentJobRow

    maya = (await ids(svc))["maya"]
    async with svc.ctx.db.transaction() as s:
        job = (
            await s.scalars(
                select(AgentJobRow).where(AgentJobRow.created_by_id == maya.user_id).order_by(AgentJobRow.id)
            )
        ).first()
        assert job is not None
        job.status, job.error = "failed", "the model endpoint went away"
        await job_event(svc.ctx, s, RUNNER, job, "failed", "the model endpoint went away")


async def review_decided(svc: Any) -> None:
    from crewos_tui.backend.schemas.review import ReviewItemCreate

    w = await ids(svc)
    item = await svc.review.submit(
        w["maya"], ReviewItemCreate(title="Launch checklist", project_id=w["Atlas Launch"].id)
    )
    await svc.review.approve(w["priya"], item.id)


async def mention(svc: Any) -> None:
    from crewos_tui.backend.schemas.sessions import ChatSessionCreate, SessionShareCreate

    w = await ids(svc)
    session = await svc.sessions.create(w["priya"], ChatSessionCreate(title="QA sync", project_id=w["Atlas Launch"].id))
    share = await svc.sessions.create_share(w["priya"], session.id, SessionShareCreate(user_id=w["maya"].user_id))
    await svc.sessions.accept_share(w["maya"], session.id, share.id)
    await svc.chat.send(w["priya"], "@maya can you look at the flaky test?", session_id=session.id)


# ---- what each screen shows as selected ---------------------------------------------------


def project_shown(screen: Any, n: Notification) -> str | None:
    assert isinstance(screen, ProjectsScreen), screen
    selected = screen.project_table.selected
    assert selected is not None and screen.project is not None and selected.id == screen.project.id
    return screen.project.id


def project_row_shown(tab: str, listed: bool) -> Callable[[Any, Notification], str | None]:
    """The project on ``tab``; the row itself when the list holds it (a pending one)."""

    def shown(screen: Any, n: Notification) -> str | None:
        assert project_shown(screen, n) == n.link.project_id
        assert screen.detail.active_tab == tab
        row = screen.detail.tables[tab].selected
        if not listed:
            return n.link.resource_id if row is None or row.id != n.link.resource_id else "listed"
        return row.id if row is not None else None

    return shown


def request_shown(screen: Any, n: Notification) -> str | None:
    assert isinstance(screen, LedgerScreen), screen
    assert screen.project_id == n.link.project_id and screen.current_view() == "requests"
    return screen.selected_request.id if screen.selected_request else None


def transaction_shown(screen: Any, n: Notification) -> str | None:
    assert isinstance(screen, LedgerScreen), screen
    assert screen.project_id == n.link.project_id and screen.current_view() == "history"
    selected = screen.query_one("#history-table").selected  # type: ignore[attr-defined]
    return selected.id if selected else None


def task_shown(screen: Any, n: Notification) -> str | None:
    assert isinstance(screen, TaskDetailScreen), screen  # the task's detail, over the board
    board = screen.app.screen_stack[-2]
    assert isinstance(board, BoardScreen) and board.project is not None
    assert board.project.id == n.link.project_id
    return screen.task_id


def job_shown(screen: Any, n: Notification) -> str | None:
    assert isinstance(screen, BoardScreen), screen
    assert screen.project is not None and screen.project.id == n.link.project_id and screen._jobs_panel is not None
    selected = screen._jobs_panel.selected
    return selected.id if selected else None


def review_shown(screen: Any, n: Notification) -> str | None:
    assert isinstance(screen, ReviewScreen), screen
    return screen.current.id if screen.current else None


def session_shown(screen: Any, n: Notification) -> str | None:
    assert isinstance(screen, SessionsScreen), screen
    return screen.selected.id if screen.selected else None


Shown = Callable[[Any, Notification], str | None]
#: Kind -> (how to make one for maya, what the opened screen must have selected).
CASES: dict[str, tuple[Make, Shown]] = {
    "project.member_added": (none_needed, project_shown),
    "project.member_role_changed": (role_changed, project_shown),
    "project.member_removed": (removed, project_shown),
    "project.archived": (archived, project_shown),
    "project.access_requested": (none_needed, project_row_shown("requests", listed=True)),
    "project.access_approved": (access_decided("approved"), project_row_shown("requests", listed=False)),
    "project.access_rejected": (access_decided("rejected"), project_row_shown("requests", listed=False)),
    "project.folder_update_proposed": (none_needed, project_row_shown("updates", listed=True)),
    "project.folder_update_approved": (folder_decided(True), project_row_shown("updates", listed=False)),
    "project.folder_update_rejected": (folder_decided(False), project_row_shown("updates", listed=False)),
    "token.request_awaiting_approval": (none_needed, request_shown),
    "token.request_approved": (none_needed, request_shown),
    "token.request_rejected": (token_rejected, request_shown),
    "token.request_executed": (none_needed, request_shown),
    "token.request_failed": (token_failed, request_shown),
    "token.wallet_changed": (wallet_changed, transaction_shown),
    "task.assigned": (none_needed, task_shown),
    "task.review": (none_needed, task_shown),
    "job.finished": (none_needed, job_shown),
    "job.failed": (job_failed, job_shown),
    "review.requested": (none_needed, review_shown),
    "review.decided": (review_decided, review_shown),
    "session.shared": (none_needed, session_shown),
    "chat.mention": (mention, session_shown),
}


def test_every_kind_has_a_case() -> None:
    assert set(CASES) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
async def test_enter_opens_what_the_notification_is_about(demo_spec: LaunchSpec, kind: str) -> None:
    make, shown = CASES[kind]
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        backend: Any = app.backend
        await make(backend.services)
        await settle(pilot)
        mine = (await backend.notifications.list(kind=kind, limit=200)).items
        assert mine, f"no {kind} notification for maya"
        # The oldest: the one furthest from whatever a screen selects first by itself.
        target = mine[-1]
        # The screen it opens has been open before, with a selection of its own (daily use).
        await pilot.app.switch_mode(LINK_MODES[target.link.resource_type])
        await settle(pilot)
        await open_screen_at(pilot, kind, target)
        await pilot.press("enter")
        await settle(pilot)
        assert shown(pilot.app.screen, target) == target.link.resource_id
        read = next(n for n in (await backend.notifications.list(kind=kind, limit=200)).items if n.id == target.id)
        assert read.read_at is not None


async def open_screen_at(pilot: Pilot[Any], kind: str, target: Notification) -> NotificationsScreen:
    screen = await open_mode(pilot, "5", NotificationsScreen)
    screen.query_one("#kind-filter", Select).value = kind
    await settle(pilot)
    assert screen.table.select_key(target.id)
    screen.table.focus()
    await pilot.pause()
    return screen
