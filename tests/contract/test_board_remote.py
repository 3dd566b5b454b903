"""The board in remote mode, against the live server: it has no live events, so it
refreshes on an interval; a change made elsewhere shows up without a key."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.tasks import TaskCreate
from crewos_tui.connect import Connection
from crewos_tui.launch import LaunchSpec

from ..app_support import make_app, settle
from ..conftest import api_key_of, unique, user_factory


async def test_the_remote_board_refreshes_on_an_interval(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from crewos_tui.backend.local.services import Services
    from crewos_tui.backend.remote import RemoteBackend
    from crewos_tui.screens.board import BoardScreen

    from ..conftest import fast_settings

    monkeypatch.setenv("CREWOS_TUI_BOARD_REFRESH", "1")
    svc = await Services.open(live_server.db_path, settings=fast_settings())
    try:
        user, _ = await user_factory(svc)(team=unique("board-team-"))
        me = await svc.auth.principal_for(user.username)
        project = await svc.projects.create(me, ProjectCreate(name=unique("AAA Remote board ")))
        task = await svc.tasks.create(me, TaskCreate(project_id=project.id, title="Check the remote board"))
        key = await api_key_of(svc, user)

        async def opener(spec: LaunchSpec) -> Connection:
            return Connection(RemoteBackend(live_server.url, key), key_source="env")

        spec = LaunchSpec(profile="work", mode="remote", url=live_server.url, username=user.username)
        app = make_app(spec, opener=opener)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            board = app.screen
            assert isinstance(board, BoardScreen)
            assert board.project is not None and board.project.id == project.id
            assert [t.title for t in board.columns["todo"].tasks] == ["Check the remote board"]
            assert board._refresh_timer is not None  # remote mode: polling, 1 s here
            await svc.tasks.set_status(me, task.id, "in_progress")  # another client moves it
            for _ in range(60):
                await pilot.pause(0.1)
                if board.columns["in_progress"].tasks:
                    break
            assert [t.title for t in board.columns["in_progress"].tasks] == ["Check the remote board"]
            await pilot.press("i")  # 1 s is not a choice: the cycle starts at 5 s
            assert board.refresh_seconds == 5
            await asyncio.sleep(0)
    finally:
        await svc.close()
