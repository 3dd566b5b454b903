"""Issue 16, item 8: the jobs panel follows a job the user just started, names the task
each job belongs to, and ``x`` cancels the job under the cursor (checked in the backend)."""

from __future__ import annotations

import asyncio
from typing import Any

from crewos_tui.backend.local import jobs as job_runner
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.board import BoardScreen

from .app_support import make_app, open_mode, settle

SIZE = (120, 40)


async def _slow(job: Any) -> dict[str, Any]:
    for i in range(100):  # long enough to be cancelled on a slow machine
        await job.progress(i, f"step {i}")
        await asyncio.sleep(0.5)
    return {}


async def test_a_new_job_takes_the_cursor_and_x_cancels_it(demo_spec: LaunchSpec, monkeypatch: Any) -> None:
    job_runner._load_builtins()
    real = job_runner._KINDS["task_run"]
    monkeypatch.setitem(job_runner._KINDS, "task_run", job_runner.JobKind(
        "task_run", _slow, real.prepare, real.on_queued, real.description))
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        app: Any = pilot.app
        board = await open_mode(pilot, "2", BoardScreen)
        await pilot.press("J")
        await settle(pilot)
        panel = board.jobs
        assert panel is not None and panel.items
        old = panel.selected
        assert old is not None and old.status.value != "queued"  # the demo's finished jobs
        task = next(t for t in board.columns["todo"].tasks if t.title == "SSO login for pilots")
        board._focus("todo", board.columns["todo"].index_of(task.id))
        await pilot.pause()
        await pilot.press("g")
        new = None
        for _ in range(200):
            await pilot.pause(0.05)
            new = next((j for j in panel.items if j.task_id == task.id and j.id != old.id
                        and j.status.value in ("queued", "running")), None)
            if new is not None and panel.selected is not None and panel.selected.id == new.id:
                break
        assert new is not None
        assert panel.selected is not None and panel.selected.id == new.id  # the cursor followed it
        table: Any = panel.query_one("#jobs-table")
        row = table.get_row(new.id)
        assert str(row[1]) == "SSO login for pilots"  # the task it belongs to, as plain text
        await pilot.press("x")
        for _ in range(400):
            if (await app.backend.agent_jobs.get(new.id)).status.value == "cancelled":
                break
            await asyncio.sleep(0.05)
        assert (await app.backend.agent_jobs.get(new.id)).status.value == "cancelled"
        assert (await app.backend.agent_jobs.get(old.id)).status == old.status  # not the stale row


async def test_job_rows_show_a_hostile_task_title_literally(demo_spec: LaunchSpec) -> None:
    from rich.text import Text

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        board = await open_mode(pilot, "2", BoardScreen)
        await pilot.press("J")
        await settle(pilot)
        panel = board.jobs
        assert panel is not None
        job = next(j for j in panel.items if j.task_id)
        panel.show_jobs(panel.items, {job.task_id or "": "[bold red]x[/] \x1b[2J"})
        cell = panel.query_one("#jobs-table").get_row(job.id)[1]  # type: ignore[attr-defined]
        assert isinstance(cell, Text)
        assert "[bold red]x[/]" in cell.plain and "\x1b" not in cell.plain
