"""Pilot tests of the board: moving cards, a refused move, review decisions, retry,
the detail pane, new tasks, filters, live updates and agent jobs — each checked
against the backend, not only the screen."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.pilot import Pilot

from crewos_tui.backend.local.jobs import JobContext, register_job_kind
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.board import BoardScreen, parse_filter
from crewos_tui.widgets.forms import FormModal
from crewos_tui.widgets.task_detail import TaskDetailScreen

from .app_support import Notes, make_app, settle

SIZE = (120, 40)


async def _slow(job: JobContext) -> dict[str, Any]:
    for i in range(100):  # 50 s: long enough to be cancelled on a slow machine
        await job.progress(i, f"step {i}")
        await asyncio.sleep(0.5)
    return {}


register_job_kind("board_test_slow", _slow, description="test-only: a long job to cancel")


async def open_board(pilot: Pilot[Any]) -> BoardScreen:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BoardScreen), screen
    return screen


def titles(board: BoardScreen, status: str) -> list[str]:
    return [t.title for t in board.columns[status].tasks]


async def focus_card(pilot: Pilot[Any], board: BoardScreen, title: str) -> Any:
    for status, column in board.columns.items():
        for i, task in enumerate(column.tasks):
            if task.title == title:
                board._focus(status, i)
                await pilot.pause()
                assert board.selected_task is not None and board.selected_task.title == title
                return task
    raise AssertionError(f"no card {title!r}")


async def status_of(pilot: Pilot[Any], task_id: str) -> str:
    task = await pilot.app.backend.tasks.get(task_id)
    return str(task.status.value)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[{" ": "space", "@": "at", "-": "minus", ".": "full_stop"}.get(c, c) for c in text])


def test_parse_filter() -> None:
    assert parse_filter("docs  @priya notes") == ("docs notes", "priya")
    assert parse_filter("@") == ("@", None)
    assert parse_filter("") == (None, None)


async def test_the_board_shows_the_first_project_by_columns(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        assert board.project is not None and board.project.name == "Atlas Launch"
        assert titles(board, "todo")[:2] == ["Load test: 10,000 tasks on one board", "Send beta invitations"]
        assert titles(board, "review") == ["Durable job runner with leases", "Set up the review rota"]
        assert titles(board, "blocked") == ["Docs site: getting started"]
        assert len(titles(board, "done")) == 3
        assert board.columns["failed"].parent is None  # behind the toggle: not even mounted yet
        await pilot.press("t")
        await settle(pilot)
        assert titles(board, "failed") == ["On-call runbooks"]
        assert titles(board, "cancelled") == ["Opt-in usage telemetry"]


async def test_moving_a_card_forward_and_the_focus_follows(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        task = await focus_card(pilot, board, "SSO login for pilots")
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert await status_of(pilot, task.id) == "in_progress"
        assert "SSO login for pilots" in titles(board, "in_progress")
        assert board.selected_task is not None and board.selected_task.id == task.id  # focus followed it
        await pilot.press("shift+right")
        await settle(pilot)
        assert await status_of(pilot, task.id) == "review"


async def test_a_refused_move_shows_why_and_changes_nothing(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        task = await focus_card(pilot, board, "Load test: 10,000 tasks on one board")
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert await status_of(pilot, task.id) == "todo"
        assert board.last_refusal and "blocked by 1 unfinished task" in board.last_refusal
        assert any("Durable job runner with leases" in m for s, m in notes if s == "warning")
        moving = await focus_card(pilot, board, "Review queue: one-key decisions")
        await pilot.press("less_than_sign")  # in progress → to do: the state machine says no
        await settle(pilot)
        assert await status_of(pilot, moving.id) == "in_progress"
        assert "allowed: review, blocked, failed, cancelled" in (board.last_refusal or "")


async def test_review_decisions_by_key(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        approved = await focus_card(pilot, board, "Durable job runner with leases")
        await pilot.press("a")
        await settle(pilot)
        assert await status_of(pilot, approved.id) == "done"
        rework = await focus_card(pilot, board, "Set up the review rota")
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(pilot.app.screen, FormModal)
        await type_text(pilot, "Name a backup reviewer")
        await pilot.press("enter")
        await settle(pilot)
        assert await status_of(pilot, rework.id) == "in_progress"
        events = (await pilot.app.backend.tasks.list_events(rework.id, limit=200)).items
        assert events[-1].kind == "review_rework_requested" and events[-1].message == "Name a backup reviewer"
        blocked = await focus_card(pilot, board, "Draft pilot pricing")
        await pilot.press("b")
        await settle(pilot)
        await type_text(pilot, "Waiting for finance")
        await pilot.press("enter")
        await settle(pilot)
        detail = await pilot.app.backend.tasks.get(blocked.id)
        assert detail.status.value == "blocked" and detail.blocked_from.value == "todo"
        assert "Draft pilot pricing" in titles(board, "blocked")
        await pilot.press("greater_than_sign")  # unblock: back where it came from
        await settle(pilot)
        assert await status_of(pilot, blocked.id) == "todo"


async def test_retry_a_failed_task(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("t")
        await settle(pilot)
        failed = await focus_card(pilot, board, "On-call runbooks")
        await pilot.press("r")
        await settle(pilot)
        assert await status_of(pilot, failed.id) == "todo"
        assert "On-call runbooks" in titles(board, "todo") and titles(board, "failed") == []


async def test_the_detail_pane_and_its_actions(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        task = await focus_card(pilot, board, "Set up the review rota")
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, TaskDetailScreen) and detail.detail is not None
        assert detail.detail.agent_runs and detail.detail.agent_runs[0].agent == "worker"
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, "Looks right")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert await status_of(pilot, task.id) == "done"
        assert detail.detail.status.value == "done"  # the pane reloaded
        kinds = [e.kind for e in detail.detail.recent_events[:2]]
        assert kinds == ["review_approved", "comment"]
        await pilot.press("escape")
        assert pilot.app.screen is board


async def test_new_task_form(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(pilot.app.screen, FormModal)
        await type_text(pilot, "Book the launch venue")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Book the launch venue" in titles(board, "todo")
        page = await pilot.app.backend.tasks.list(project_id=board.project.id, q="launch venue")
        assert [t.title for t in page.items] == ["Book the launch venue"]


async def test_filter_by_words_and_assignee(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("slash")
        await type_text(pilot, "@devon")
        await settle(pilot)
        assert titles(board, "todo") == []
        assert set(titles(board, "in_progress")) == {"Review queue: one-key decisions"}
        await pilot.press(*["backspace"] * 6)
        await type_text(pilot, "docs")
        await settle(pilot)
        assert titles(board, "blocked") == ["Docs site: getting started"] and titles(board, "todo") == []


async def test_the_board_follows_changes_made_elsewhere(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        task = next(t for t in board.columns["todo"].tasks if t.title == "Draft pilot pricing")
        await pilot.app.backend.tasks.set_status(task.id, "in_progress")  # as another screen would
        await settle(pilot)
        assert "Draft pilot pricing" in titles(board, "in_progress")
        assert "Draft pilot pricing" not in titles(board, "todo")


async def test_run_the_worker_agent_from_the_board(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        task = await focus_card(pilot, board, "SSO login for pilots")
        await pilot.press("g")
        for _ in range(200):  # the job runs in the app's own runner, in the background
            await settle(pilot)
            if await status_of(pilot, task.id) == "review":
                break
            await asyncio.sleep(0.05)
        assert await status_of(pilot, task.id) == "review"
        await settle(pilot)
        assert "SSO login for pilots" in titles(board, "review")  # live, without a key
        await pilot.press("J")
        await settle(pilot)
        kinds = [(j.kind, j.status.value) for j in board.jobs.items]
        assert kinds[0] == ("task_run", "succeeded")


async def test_cancel_a_running_job_from_the_jobs_panel(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate

        job = await pilot.app.backend.agent_jobs.create(AgentJobCreate(kind="board_test_slow",
                                                                       project_id=board.project.id))
        for _ in range(400):
            if (await pilot.app.backend.agent_jobs.get(job.id)).status.value == "running":
                break
            await asyncio.sleep(0.05)
        await pilot.press("J")
        # No settle(): a running job's progress ticks keep live reloads coming.
        for _ in range(200):  # the panel fills in a worker
            if board.jobs is not None and board.jobs.selected is not None:
                break
            await pilot.pause(0.05)
        assert board.jobs.selected is not None and board.jobs.selected.id == job.id
        await pilot.press("x")
        for _ in range(400):
            if (await pilot.app.backend.agent_jobs.get(job.id)).status.value == "cancelled":
                break
            await asyncio.sleep(0.05)
        assert (await pilot.app.backend.agent_jobs.get(job.id)).status.value == "cancelled"


async def test_switch_project_with_the_picker(demo_spec: LaunchSpec) -> None:
    from crewos_tui.widgets.project_picker import ProjectPicker

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ProjectPicker)
        await type_text(pilot, "harb")
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is board
        assert board.project is not None and board.project.name == "Harbor Research"
        assert titles(board, "review") == ["Literature review: berth scheduling"]
