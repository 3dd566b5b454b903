"""Held review decisions are never lost: every way out of the review screen or the app
sends what waits in its undo window, and what cannot be sent is named before the app
exits. Each test checks the database itself, reopened by a second service layer after
the app is gone. The undo window is an hour here, so only a way out can have sent it.
The real-process ways out (SIGTERM, SIGHUP, a closed terminal) are in
``test_app_signals_pty.py``."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui import held_work, paths
from crewos_tui.backend.errors import Unavailable
from crewos_tui.backend.local.services import Services
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens import review_actions
from crewos_tui.screens.review import ReviewScreen
from crewos_tui.widgets.confirm import ConfirmModal

from .app_support import Notes, make_app, settle
from .conftest import fast_settings

SIZE = (80, 24)
OFFLINE = "cannot reach http://127.0.0.1:9: connection refused"


@pytest.fixture(autouse=True)
def hour_long_undo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_actions, "GRACE_SECONDS", 3600.0)


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


async def open_review(pilot: Pilot[Any]) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen), screen
    return screen


async def hold_approval(pilot: Pilot[Any]) -> tuple[ReviewScreen, str]:
    """``a`` on the first item: the decision waits in its (hour-long) undo window."""
    screen = await open_review(pilot)
    first = screen.table.items[0]
    await pilot.press("a")
    assert first.id in screen.pending and pilot.app.held_count() == 1
    return screen, first.id


async def recorded(spec: LaunchSpec, item_id: str) -> str:
    """The item's state in the database, read by a service layer of its own."""
    assert spec.data_dir is not None
    services = await Services.open(paths.database_file(spec.data_dir, demo=True), settings=fast_settings())
    try:
        maya = await services.auth.principal_for("maya")
        return str((await services.review.get(maya, item_id)).state.value)
    finally:
        await services.close()


def refuse_approvals(app: Any) -> None:
    """The backend refuses every approval as a server that went away would."""
    async def approve(item_id: str, reason: str = "") -> Any:
        raise Unavailable(OFFLINE)

    app.backend.review.approve = approve


# ---- every way out sends ----------------------------------------------------------------


async def test_ctrl_q_sends_the_held_decision_before_quitting(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        _, item_id = await hold_approval(pilot)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0 and app.unsent == []
    assert await recorded(demo_spec, item_id) == "approved"


async def test_app_exit_sends_the_held_decision(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        _, item_id = await hold_approval(pilot)
        app.exit()
        await until(pilot, lambda: app.return_code is not None)
        assert app.held_count() == 0
    assert await recorded(demo_spec, item_id) == "approved"


async def test_switching_to_another_screen_sends_the_held_decision(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        _, item_id = await hold_approval(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert app.held_count() == 0 and app.return_code is None  # sent, and the app goes on
        assert str((await app.backend.review.get(item_id)).state.value) == "approved"  # type: ignore[union-attr]
    assert await recorded(demo_spec, item_id) == "approved"


async def test_popping_a_review_screen_sends_the_held_decision(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ReviewScreen())
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        item_id = screen.table.items[0].id
        await pilot.press("a")
        assert app.held_count() == 1
        await app.pop_screen()
        await settle(pilot)
        assert app.held_count() == 0
    assert await recorded(demo_spec, item_id) == "approved"


async def test_a_dialog_on_top_keeps_the_undo_window_open(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen, item_id = await hold_approval(pilot)
        await pilot.press("question_mark")  # help, a modal: not a way out
        await settle(pilot)
        assert item_id in screen.pending
        await pilot.press("escape")
        await pilot.press("u")
        assert app.held_count() == 0
    assert await recorded(demo_spec, item_id) == "pending"


async def test_an_app_that_dies_without_exit_still_sends_on_shutdown(demo_spec: LaunchSpec) -> None:
    """A crash or a dead terminal ends the message loop without ``exit``: the app's own
    unmount sends what waits, before the backend closes."""
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        _, item_id = await hold_approval(pilot)
        app.panic("the terminal went away")
    assert app.unsent == []
    assert await recorded(demo_spec, item_id) == "approved"


async def test_a_send_under_way_when_the_workers_are_cancelled_still_completes(demo_spec: LaunchSpec) -> None:
    """Textual cancels every worker when the message loop ends; the send is the store's
    own task, so a decision half-sent is not cut off."""
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        _, item_id = await hold_approval(pilot)
        gate = asyncio.Event()
        review = app.backend.review  # type: ignore[union-attr]
        real = review.approve

        async def slow_approve(item_id: str, reason: str = "") -> Any:
            await gate.wait()
            return await real(item_id, reason)

        review.approve = slow_approve
        app.exit()  # starts the send; it waits at the gate
        await until(pilot, lambda: len(app.held_decisions.sending) == 1)  # type: ignore[attr-defined]
        app.panic("gone")  # the loop ends, its workers are cancelled
        await asyncio.sleep(0.1)  # not pilot.pause: the app processes no more messages
        gate.set()
    assert await recorded(demo_spec, item_id) == "approved"


async def test_a_signal_sends_the_held_decision_and_exits_cleanly(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        _, item_id = await hold_approval(pilot)
        app.on_exit_signal(signal.SIGTERM)
        await until(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0
    assert await recorded(demo_spec, item_id) == "approved"


# ---- what cannot be sent is said ---------------------------------------------------------


async def test_an_unsendable_decision_is_named_before_quitting_and_the_user_can_stay(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        screen, item_id = await hold_approval(pilot)
        title = screen.items[item_id].title
        refuse_approvals(app)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        dialog = app.screen
        assert isinstance(dialog, ConfirmModal)
        text = str(dialog._message)  # pyright: ignore[reportPrivateUsage]
        assert f'approve of "{title}": {OFFLINE}' in text
        await pilot.press("n")  # stay
        await settle(pilot)
        assert app.return_code is None and app.held_count() == 0
        assert any("Not quitting: 1 decision was not sent" in m for _, m in notes)
        assert screen.state_cell(screen.items[item_id]).plain == "pend"  # undecided again, on screen too
        assert str((await app.backend.review.get(item_id)).state.value) == "pending"  # type: ignore[union-attr]
        await pilot.press("ctrl+q")  # nothing held any more: quits at once
        await until(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0
    assert await recorded(demo_spec, item_id) == "pending"


async def test_quit_anyway_exits_non_zero_and_says_what_was_not_sent(
        demo_spec: LaunchSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen, item_id = await hold_approval(pilot)
        title = screen.items[item_id].title
        refuse_approvals(app)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1
    assert app.unsent == [f'approve of "{title}": {OFFLINE}']
    held_work.report_unsent(app.unsent, tmp_path / "data", "demo")  # what run_app does once the terminal is back
    err = capsys.readouterr().err
    assert f'crewos-tui: not sent: approve of "{title}": {OFFLINE}' in err
    assert f"listed in {tmp_path / 'data' / 'unsent.log'}" in err
    log = (tmp_path / "data" / "unsent.log").read_text()
    assert f'[demo] not sent: approve of "{title}": {OFFLINE}' in log
    assert (tmp_path / "data" / "unsent.log").stat().st_mode & 0o777 == 0o600
    assert await recorded(demo_spec, item_id) == "pending"


async def test_a_signal_never_asks_and_exits_non_zero_with_the_unsent_decision(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen, item_id = await hold_approval(pilot)
        title = screen.items[item_id].title
        refuse_approvals(app)
        app.on_exit_signal(signal.SIGHUP)  # no terminal to answer a dialog
        await until(pilot, lambda: app.return_code is not None)
        assert not isinstance(app.screen, ConfirmModal)
    assert app.return_code == 1 and app.unsent == [f'approve of "{title}": {OFFLINE}']


async def test_a_signal_while_the_dialog_asks_ends_the_app_with_the_unsent_decision(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await hold_approval(pilot)
        refuse_approvals(app)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        app.on_exit_signal(signal.SIGTERM)
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1 and len(app.unsent) == 1


async def test_a_send_without_an_answer_is_given_up_after_the_flush_limit(
        demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(held_work, "FLUSH_TIMEOUT", 0.3)
    app = make_app(demo_spec)
    stalled = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        screen, item_id = await hold_approval(pilot)
        title = screen.items[item_id].title

        async def stall(item_id: str, reason: str = "") -> Any:
            await stalled.wait()  # a server that never answers

        app.backend.review.approve = stall  # type: ignore[union-attr]
        app.on_exit_signal(signal.SIGTERM)
        await until(pilot, lambda: app.return_code is not None)
        stalled.set()
    assert app.return_code == 1
    assert app.unsent == [f'approve of "{title}": no answer within 0.3 s; it may or may not be recorded']


async def test_a_hang_up_without_a_terminal_sends_logs_what_failed_and_ends_the_process(
        demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGHUP after the terminal went away: no more frames, send, close, log, ``os._exit``
    (Textual's own shutdown would wait on a terminal that is gone)."""
    import os

    ended: list[int] = []
    monkeypatch.setattr(held_work, "terminal_gone", lambda: True)
    monkeypatch.setattr(os, "_exit", ended.append)
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen, item_id = await hold_approval(pilot)
        title = screen.items[item_id].title
        refuse_approvals(app)
        app.on_exit_signal(signal.SIGHUP)
        await until(pilot, lambda: ended != [])
        assert ended == [1] and app.backend is None  # closed before the end
        app.exit()  # os._exit was only recorded: let the test's app go
    assert demo_spec.data_dir is not None
    log = (demo_spec.data_dir / "unsent.log").read_text()
    assert f'[demo] not sent: approve of "{title}": {OFFLINE}' in log
    assert await recorded(demo_spec, item_id) == "pending"
