"""Pilot tests of the chat, sessions and agents screens (local demo), checked against
the backend: sending, streaming (coalesced), cancelling, feedback, tasks from a plan,
export; sharing, accepting, closing, replaying; agents and the agent card."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown

from crewos_tui.backend.local.agents.runtime import chunks
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens import sessions as sessions_screen
from crewos_tui.screens.agents import AgentsScreen
from crewos_tui.screens.chat import ChatScreen
from crewos_tui.screens.sessions import SessionsScreen
from crewos_tui.widgets import chat_log
from crewos_tui.widgets.chat_log import ChatInput, MessageLog

from .app_support import Notes, make_app, open_mode, settle

SIZE = (120, 40)


def services(pilot: Pilot[Any]) -> Any:
    return pilot.app.backend.services


async def as_user(pilot: Pilot[Any], name: str) -> Any:
    return await services(pilot).auth.principal_for(name)


async def type_and_send(pilot: Pilot[Any], screen: ChatScreen, text: str) -> None:
    screen.query_one(ChatInput).focus()
    screen.query_one(ChatInput).insert(text)
    await pilot.press("enter")


async def open_session_titled(pilot: Pilot[Any], screen: ChatScreen, title: str) -> Any:
    item = next(s for s in screen.sessions_table.items if s.title == title)
    screen.open_session(item.id)
    await settle(pilot)
    return item


async def test_chat_lists_sessions_and_shows_one(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        titles = [s.title for s in screen.sessions_table.items]
        assert titles == ["Summarise progress", "What is waiting for me?", "Plan the beta launch",
                          "Atlas weekly update"]
        item = await open_session_titled(pilot, screen, "Atlas weekly update")
        views = screen.query_one(MessageLog).views
        assert [v.message.role for v in views] == ["user", "assistant"]
        assert views[1].message.content.startswith("# Project update: Atlas Launch")
        assert screen.session_id == item.id and screen.project_id == item.project_id


async def test_send_streams_the_reply_coalesced_and_stores_it(demo_spec: LaunchSpec,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    streams: list[Any] = []
    original = chat_log.ReplyStream.__init__

    def spy(self: Any, view: Any) -> None:
        original(self, view)
        streams.append(self)

    monkeypatch.setattr(chat_log.ReplyStream, "__init__", spy)
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        services(pilot).ctx.settings.stream_chunk_delay = 0.002  # a burst of tokens
        await pilot.press("ctrl+n")
        await type_and_send(pilot, screen, "What is waiting for me?")
        await settle(pilot)
        maya = await as_user(pilot, "maya")
        assert screen.session_id is not None
        detail = await services(pilot).sessions.get(maya, screen.session_id)
        assert [(m.role, m.status) for m in detail.messages] == [("user", "complete"), ("assistant", "complete")]
        reply = detail.messages[1]
        assert reply.agent == "helper" and reply.content.startswith("# Hello, maya")
        views = screen.query_one(MessageLog).views
        assert views[1].message.id == reply.id and views[1].query_one(Markdown).source == reply.content
        tokens = len(chunks(reply.content))  # the pieces the agent streamed
        assert streams and streams[0].text == reply.content
        assert 0 < streams[0].writes < tokens  # bursts were coalesced
        assert screen.sessions_table.items[0].id == screen.session_id  # newest activity first


async def test_escape_stops_a_running_reply_and_keeps_the_partial(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        # Slow chunks leave a wide window for the key, even on a loaded CI machine.
        services(pilot).ctx.settings.stream_chunk_delay = 0.25
        await pilot.press("ctrl+n")
        await type_and_send(pilot, screen, "What is waiting for me?")
        for _ in range(500):
            await pilot.pause(0.02)
            if screen.stream is not None and len(screen.stream.text) > 20:
                break
        assert screen.streaming and screen.check_action("cancel_reply", ()) is True
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.streaming
        detail = await services(pilot).sessions.get(await as_user(pilot, "maya"), screen.session_id)
        reply = detail.messages[-1]
        assert reply.status == "cancelled" and 20 < len(reply.content) < 400
        assert "cancelled" in str(screen.query_one(MessageLog).views[-1].query_one(".message-header").render())


async def test_the_reply_menu_rates_the_selected_reply(demo_spec: LaunchSpec) -> None:
    """``enter`` on a reply opens its menu; a rating is sent only once it is picked there."""
    from crewos_tui.widgets.choice_menu import ChoiceMenu

    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        item = await open_session_titled(pilot, screen, "What is waiting for me?")
        screen.query_one(MessageLog).focus()
        await pilot.press("enter")
        await settle(pilot)
        menu = app.screen
        assert isinstance(menu, ChoiceMenu)
        maya = await as_user(pilot, "maya")
        assert (await services(pilot).sessions.get(maya, item.id)).messages[1].my_rating is None  # not yet
        await pilot.press("down", "enter")  # Copy, [Rate it up], Rate it down, ...
        await settle(pilot)
        assert app.screen is screen
        detail = await services(pilot).sessions.get(maya, item.id)
        assert detail.messages[1].my_rating == "up"
        await pilot.press("enter", "down", "down", "enter")
        await settle(pilot)
        assert (await services(pilot).sessions.get(maya, item.id)).messages[1].my_rating == "down"
        metrics = await services(pilot).sessions.feedback_metrics(maya, days=366)
        assert ("helper", 0, 1) in [(b.key, b.up, b.down) for b in metrics.by_agent]


async def test_ctrl_t_turns_a_plan_into_tasks_on_the_board(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        await open_session_titled(pilot, screen, "Plan the beta launch")
        log = screen.query_one(MessageLog)
        log.focus()
        proposal = log.selected_view.message.data["proposal"]  # the last reply: the breakdown
        # "Write the release notes" is already on the Atlas board, so the planner left it out.
        assert [t["title"] for t in proposal["tasks"]] == ["Record the demo", "Email the customers"]
        assert [t["depends_on"] for t in proposal["tasks"]] == [[], [0]]
        await pilot.press("ctrl+t")
        await settle(pilot)
        maya = await as_user(pilot, "maya")
        page = await services(pilot).tasks.list(maya, project_id=proposal["project_id"], limit=200)
        created = {t.title: t for t in page.items}
        record, email = created["Record the demo"], created["Email the customers"]
        assert record.status == "todo" and email.status == "todo"
        detail = await services(pilot).tasks.get(maya, email.id)
        assert [b.id for b in detail.blocked_by] == [record.id]  # the plan's order became a dependency


async def plan_for_atlas(pilot: Pilot[Any], screen: ChatScreen) -> Any:
    """Open the demo's "Plan the beta launch" with its breakdown selected; that reply."""
    await open_session_titled(pilot, screen, "Plan the beta launch")
    log = screen.query_one(MessageLog)
    log.focus()
    assert log.selected_view is not None
    return log.selected_view.message


async def proposal_titles(pilot: Pilot[Any], project_id: str) -> list[str]:
    maya = await as_user(pilot, "maya")
    page = await services(pilot).tasks.list(maya, project_id=project_id, limit=200)
    return sorted(t.title for t in page.items if t.title in ("Record the demo", "Email the customers"))


async def test_ctrl_t_twice_makes_the_tasks_once_and_says_it_skipped_them(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        screen = await open_mode(pilot, "3", ChatScreen)
        proposal = (await plan_for_atlas(pilot, screen)).data["proposal"]
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert await proposal_titles(pilot, proposal["project_id"]) == ["Email the customers", "Record the demo"]
        said = [m for _, m in notes]
        assert said[-2:] == [
            "Created 2 tasks from this proposal.",
            "Nothing new: skipped 2 tasks already made from this proposal.",
        ]
        assert notes.errors() == []


async def test_ctrl_t_after_a_run_cut_short_makes_only_the_rest(demo_spec: LaunchSpec) -> None:
    from crewos_tui.backend.proposal import accept_proposal

    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        screen = await open_mode(pilot, "3", ChatScreen)
        reply = await plan_for_atlas(pilot, screen)
        proposal = reply.data["proposal"]
        # The first item was made from this reply before (a run that stopped after it).
        assert app.backend is not None
        await accept_proposal(
            app.backend.tasks, proposal["tasks"][:1], message_id=reply.id, project_id=proposal["project_id"]
        )
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert await proposal_titles(pilot, proposal["project_id"]) == ["Email the customers", "Record the demo"]
        assert [m for _, m in notes][-1] == "Created 1 task; skipped 1 already made from this proposal."


async def test_ctrl_t_after_a_restart_still_skips_what_the_proposal_made(demo_spec: LaunchSpec) -> None:
    """A new app on the same database knows what the first app made from the proposal."""
    first = make_app(demo_spec)
    async with first.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        proposal = (await plan_for_atlas(pilot, screen)).data["proposal"]
        await pilot.press("ctrl+t")
        await settle(pilot)
    again = make_app(demo_spec)
    async with again.run_test(size=SIZE) as pilot:
        notes = Notes(again)
        screen = await open_mode(pilot, "3", ChatScreen)
        await plan_for_atlas(pilot, screen)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert await proposal_titles(pilot, proposal["project_id"]) == ["Email the customers", "Record the demo"]
        assert [m for _, m in notes][-1] == "Nothing new: skipped 2 tasks already made from this proposal."


async def test_ctrl_s_exports_the_transcript(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        screen = await open_mode(pilot, "3", ChatScreen)
        item = await open_session_titled(pilot, screen, "Atlas weekly update")
        screen.query_one(MessageLog).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        target = Path(demo_spec.data_dir) / "exports" / f"atlas-weekly-update-{item.id}.md"
        assert target.exists()
        text = target.read_text()
        assert text.startswith("# Atlas weekly update") and "# Project update: Atlas Launch" in text
        assert any(str(target) in m for _, m in notes)


async def test_sessions_accept_an_invitation_then_replay(demo_spec: LaunchSpec, monkeypatch) -> None:
    monkeypatch.setattr(sessions_screen, "REPLAY_DELAY", 0)
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "8", SessionsScreen)
        assert [s.title for s in screen.table.items] == ["Summarise progress", "Plan the beta launch",
                                                         "Atlas weekly update"]
        screen.query_one("#sessions-filter").value = "invited"
        await settle(pilot)
        [invite] = screen.table.items
        assert invite.title == "Harbor steering pack" and invite.access == "invited"
        screen.table.focus()
        await pilot.press("a")
        await settle(pilot)
        maya = await as_user(pilot, "maya")
        shared = await services(pilot).sessions.list(maya, scope="shared")
        assert invite.id in [s.id for s in shared.items]
        screen.query_one("#sessions-filter").value = "shared"
        await settle(pilot)
        assert screen.table.select_key(invite.id)
        await pilot.press("r")
        await settle(pilot)
        source = screen.query_one("#session-preview", Markdown).source
        assert source.startswith("# Harbor steering pack") and "# Project update: Harbor Research" in source


async def test_sessions_share_and_close(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "8", SessionsScreen)
        target = next(s for s in screen.table.items if s.title == "Atlas weekly update")
        assert screen.table.select_key(target.id)
        screen.table.focus()
        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*"priya", "enter")
        await settle(pilot)
        maya = await as_user(pilot, "maya")
        shares = await services(pilot).sessions.list_shares(maya, target.id)
        assert [(x.invitee, x.status) for x in shares.items] == [("priya", "pending")]
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert (await services(pilot).sessions.get(maya, target.id)).status == "closed"


async def test_enter_opens_a_session_in_chat(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "8", SessionsScreen)
        target = next(s for s in screen.table.items if s.title == "Plan the beta launch")
        assert screen.table.select_key(target.id)
        screen.table.focus()
        await pilot.press("enter")
        await settle(pilot)
        chat = pilot.app.screen
        assert isinstance(chat, ChatScreen) and chat.session_id == target.id
        assert len(chat.query_one(MessageLog).views) == 4


async def test_agents_screen_lists_agents_and_shows_the_card(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "9", AgentsScreen)
        names = [a.name for a in screen.table.items]
        assert names[:3] == ["helper", "planner", "reporter"]
        detail = screen.query_one("#agent-detail", Markdown)
        assert "`helper`" in detail.source and "Routing" in detail.source
        await pilot.press("c")
        await settle(pilot)
        assert "Agent card: CrewOS" in detail.source and "X-CrewOS-API-Key" in detail.source
        await pilot.press("c")
        await settle(pilot)
        await asyncio.sleep(0)
        assert "`helper`" in detail.source


async def test_escape_leaves_the_input_so_mode_keys_work(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        assert screen.focused is screen.query_one(ChatInput)
        await pilot.press("escape")
        assert screen.focused is screen.query_one(MessageLog)
        await pilot.press("9")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AgentsScreen)
