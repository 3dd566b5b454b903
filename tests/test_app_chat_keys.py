"""Issue 16, chat at 80x24 by keyboard: stray typing lands in the message box and changes
nothing; the conversation follows a streaming reply only while it is at the bottom; the
one fuzzy project picker binds a chat (and is the picker of the board and the ledger)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.board import BoardScreen
from crewos_tui.screens.chat import ChatScreen
from crewos_tui.screens.ledger import LedgerScreen
from crewos_tui.widgets.chat_log import ChatInput, MessageLog
from crewos_tui.widgets.project_picker import ProjectPicker, highlighted, ranked

from .app_support import make_app, open_mode, settle

SMALL = (80, 24)
KEY_NAMES = {" ": "space"}


def keys(text: str) -> list[str]:
    return [KEY_NAMES.get(c, c) for c in text]


async def open_chat(pilot: Pilot[Any]) -> ChatScreen:
    return await open_mode(pilot, "3", ChatScreen)


async def project_named(pilot: Pilot[Any], name: str) -> Any:
    return next(p for p in (await pilot.app.backend.projects.list(limit=200)).items if p.name == name)


def exports(spec: LaunchSpec) -> list[Path]:
    folder = Path(spec.data_dir) / "exports"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_typing_on_the_conversation_goes_to_the_message_box_and_changes_nothing(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_chat(pilot)
        await pilot.press("ctrl+o", *"atl", "enter")  # pick a project: focus is back in the box
        await settle(pilot)
        assert screen.focused is screen.input
        await pilot.press("tab")  # ...and one tab moves it off
        assert screen.focused is not screen.input
        item = next(s for s in screen.sessions_table.items if s.title == "Atlas weekly update")
        screen.open_session(item.id)
        await settle(pilot)
        log = screen.query_one(MessageLog)
        log.focus()
        reply = log.selected_view.message  # type: ignore[union-attr]
        token = reply.data["artifact_token"]
        sessions_before = len((await app.backend.sessions.list(limit=200)).items)
        messages_before = (await app.backend.sessions.get(item.id)).messages

        await pilot.press(*keys("Prepare the project update"))
        await settle(pilot)

        assert app.screen is screen and screen.focused is screen.input
        assert screen.query_one(ChatInput).text == "Prepare the project update"
        assert exports(demo_spec) == []  # no transcript was exported
        art = await app.backend.artifacts.source(token)
        assert art.current_revision == 1  # no artifact opened, no cleanup revision
        detail = await app.backend.sessions.get(item.id)
        assert detail.messages == messages_before  # no rating, nothing sent
        assert len((await app.backend.sessions.list(limit=200)).items) == sessions_before

        screen.sessions_table.focus()  # the session list too
        await pilot.press("x")
        assert screen.focused is screen.input and screen.input.text == "Prepare the project updatex"


async def test_digits_are_not_redirected(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_chat(pilot)
        screen.query_one(MessageLog).focus()
        await pilot.press("9")
        await settle(pilot)
        assert app.current_mode == "agents" and screen.input.text == ""


async def test_the_picker_binds_the_chat_to_a_project_in_a_few_keys(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_chat(pilot)
        harbor = await project_named(pilot, "Harbor Research")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, ProjectPicker)
        await pilot.press(*"hrb", "enter")  # fuzzy: the letters in order, not together
        await settle(pilot)
        assert app.screen is screen and screen.project_id == harbor.id
        assert "Harbor Research" in str(screen.query_one("#chat-project").render())
        await pilot.press(*keys("What is waiting for me?"), "enter")
        await settle(pilot)
        assert screen.session_id is not None
        assert (await app.backend.sessions.get(screen.session_id)).project_id == harbor.id

        await pilot.press("ctrl+o", "escape")  # cancelled: still bound
        await settle(pilot)
        assert screen.project_id == harbor.id


async def test_the_picker_opened_before_the_screen_has_its_projects_fetches_them(demo_spec: LaunchSpec) -> None:
    """ctrl+o pressed the moment chat opens (its project list not arrived yet): the picker
    fetches the active projects itself, and the letters typed meanwhile filter them."""
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_chat(pilot)
        atlas = await project_named(pilot, "Atlas Launch")
        screen.projects = []  # as before load_choices has answered
        await pilot.press("ctrl+o")
        picker = app.screen
        assert isinstance(picker, ProjectPicker)
        await pilot.press(*"atl")
        await settle(pilot)
        assert picker.options.option_count >= 1
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.project_id == atlas.id


async def test_the_same_picker_chooses_the_board_and_the_ledger_project(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        northwind = await project_named(pilot, "Northwind Advisory")
        await pilot.press("2")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProjectPicker)
        await pilot.press(*"nrt", "enter")
        await settle(pilot)
        assert board.project is not None and board.project.id == northwind.id

        await pilot.press("6")
        await settle(pilot)
        ledger = app.screen
        assert isinstance(ledger, LedgerScreen)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProjectPicker)
        await pilot.press(*"nrt", "enter")
        await settle(pilot)
        assert ledger.project_id == northwind.id


def test_ranking_is_fuzzy_and_best_first() -> None:
    names = ["Website Refresh", "Northwind Advisory", "Harbor Research", "Atlas Launch"]
    assert [names[i] for i, _ in ranked("atl", names)] == ["Atlas Launch"]
    assert names[ranked("hr", names)[0][0]] == "Harbor Research"
    assert [i for i, _ in ranked("", names)] == [0, 1, 2, 3]  # nothing typed: the given order
    assert ranked("zzz", names) == []


def test_a_hostile_name_is_drawn_literally() -> None:
    name = "[@click=app.quit]Q[/] [b]x"
    [(_, offsets)] = ranked("click", [name])
    content = highlighted(name, offsets)
    assert content.plain == name  # never parsed as markup
    assert len(content.spans) == len("click")  # the matched letters, styled


async def long_reply(pilot: Pilot[Any], screen: ChatScreen, delay: float) -> MessageLog:
    """Send the reporter's long project update for Atlas; return the log once it streams."""
    services = pilot.app.backend.services  # type: ignore[attr-defined]
    services.ctx.settings.stream_chunk_delay = delay
    await pilot.press("ctrl+o", *"atl", "enter")
    await settle(pilot)
    await pilot.press(*keys("Prepare the project update"), "enter")
    log = screen.query_one(MessageLog)
    for _ in range(500):
        await pilot.pause(0.02)
        if screen.stream is not None and log.max_scroll_y > 6:
            return log
    raise AssertionError("the reply did not fill the view")


async def test_a_long_reply_is_followed_to_its_last_line(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_chat(pilot)
        # Slow enough that the reply is still arriving when the loop looks (at 10 ms a chunk
        # it could end between two looks when the imports were slow, as after an edit).
        log = await long_reply(pilot, screen, 0.03)
        seen_at_bottom = 0
        while screen.streaming:
            await pilot.pause(0.05)
            if screen.streaming and log.max_scroll_y - log.scroll_y <= 1:
                seen_at_bottom += 1
        await settle(pilot)
        assert seen_at_bottom > 0  # followed while it arrived
        assert log.max_scroll_y > 10 and log.scroll_y == log.max_scroll_y  # the last line is in view
        reply = log.views[-1]
        assert reply.message.role == "assistant" and reply.message.status == "complete"
        assert log.following


async def test_scrolled_up_the_view_stays_put_while_the_reply_arrives(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_chat(pilot)
        log = await long_reply(pilot, screen, 0.03)
        log.scroll_to(y=2, animate=False)  # the user scrolls up to read
        await pilot.pause()
        assert not log.following
        await settle(pilot)
        assert not screen.streaming and log.views[-1].message.status == "complete"
        assert log.scroll_y == 2 and log.max_scroll_y > 10  # where the user left it
        log.scroll_end(animate=False)  # back at the bottom: following again
        await pilot.pause()
        assert log.following


async def test_a_finding_without_a_project_asks_the_same_picker(demo_spec: LaunchSpec) -> None:
    from sqlalchemy import update

    from crewos_tui.backend.local.tables.review import CapabilityGapFindingRow
    from crewos_tui.screens.gaps import GapsScreen
    from crewos_tui.widgets.forms import FormModal

    app = make_app(demo_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        async with app.backend.services.ctx.db.transaction() as s:  # type: ignore[attr-defined]
            await s.execute(update(CapabilityGapFindingRow).values(project_id=None))
        website = await project_named(pilot, "Website Refresh")
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        gaps = app.screen
        assert isinstance(gaps, GapsScreen) and gaps.table.selected is not None
        finding = gaps.table.selected
        gaps.table.focus()
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ProjectPicker)
        await pilot.press(*"web", "enter")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await pilot.press("ctrl+s")
        await settle(pilot)
        page = await app.backend.capability_gaps.list_findings(limit=200)
        linked = next(f for f in page.items if f.id == finding.id)
        assert linked.task_id is not None
        assert (await app.backend.tasks.get(linked.task_id)).project_id == website.id


async def test_a_reply_body_taken_down_mid_stream_leaves_no_task_error(demo_spec: LaunchSpec) -> None:
    """Quitting (or leaving the session) while a reply streams: the appends still in flight
    are dropped, not left as "Task exception was never retrieved" on the user's terminal."""
    import asyncio
    import gc

    from textual.widget import MountError

    errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        app = make_app(demo_spec)
        async with app.run_test(size=SMALL) as pilot:
            screen = await open_chat(pilot)
            await long_reply(pilot, screen, 0.02)
            assert screen.streaming
            app.exit()  # quit while chunks still arrive
        await asyncio.sleep(0.5)
        gc.collect()
        await asyncio.sleep(0)
        assert not [e for e in errors if isinstance(e.get("exception"), MountError)], errors
    finally:
        loop.set_exception_handler(None)
