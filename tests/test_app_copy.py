"""Copy that works over SSH: ``y`` in Chat copies through OSC 52 (the terminal's own
clipboard write, which travels through ssh and tmux), and the toast says so."""

from __future__ import annotations

import base64

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.chat import ChatScreen
from crewos_tui.widgets import clipboard
from crewos_tui.widgets.chat_log import MessageLog

from .app_support import Notes, make_app, open_mode, settle, terminal_writes
from .test_app_chat import as_user, open_session_titled, services

TOAST = "via the terminal (OSC 52) — works over SSH; tmux needs set-clipboard on"


async def test_y_copies_the_reply_through_osc52_and_says_so(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mode(pilot, "3", ChatScreen)
        item = await open_session_titled(pilot, screen, "What is waiting for me?")
        screen.query_one(MessageLog).focus()
        written = terminal_writes(app)
        await pilot.press("ctrl+y")
        await settle(pilot)

        maya = await as_user(pilot, "maya")
        reply = (await services(pilot).sessions.get(maya, item.id)).messages[1]
        assert reply.role == "assistant" and reply.content
        assert app.clipboard == reply.content
        # The OSC 52 sequence, as the terminal (or tmux) receives it: c = clipboard, base64 text, BEL.
        expected = "\x1b]52;c;" + base64.b64encode(reply.content.encode()).decode() + "\a"
        assert expected in written
        assert ("information", f"Copied the reply {TOAST}.") in list(notes)


def test_the_osc52_sequence_round_trips_any_text() -> None:
    text = "naïve — 日本語\nline two \x1b[31m not a colour"
    seq = clipboard.osc52(text)
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\a")
    assert "\x1b[31m" not in seq and "\n" not in seq  # nothing raw reaches the terminal
    assert base64.b64decode(seq[len("\x1b]52;c;"):-1]).decode() == text


async def test_a_copy_too_large_for_some_terminals_warns(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        big = "x" * (clipboard.OSC52_SAFE_BYTES)
        clipboard.copy_via_terminal(app, big, "the reply")
        await pilot.pause()
        assert app.clipboard == big
        [(severity, message)] = [n for n in notes if "Copied" in n[1]]
        assert severity == "warning" and "drop copies this big" in message
