"""Issue 16, items 2 and 3: the number keys switch screens from chat's empty message box,
and an escape pressed just before a key, which SSH and tmux deliver as one Alt+key,
acts as escape and then the key (never an Option character typed into a filter)."""

from __future__ import annotations

from typing import Any

from textual import events
from textual._xterm_parser import XTermParser
from textual.pilot import Pilot
from textual.widgets import Input

from crewos_tui.keys import adopt_escape_digits, split_escape
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.chat import ChatScreen
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.screens.review import ReviewScreen

from .app_support import make_app, open_mode, settle

SMALL = (80, 24)


def parsed(data: str) -> list[str]:
    """The keys Textual's terminal parser reads from ``data`` (then the end of input)."""
    parser = XTermParser()
    events_ = [*parser.feed(data), *parser.feed("")]
    return [e.key for e in events_ if isinstance(e, events.Key)]


def test_escape_then_a_digit_reads_as_alt_digit_not_an_option_character() -> None:
    adopt_escape_digits()
    assert parsed("\x1b3") == ["alt+3"]
    assert parsed("\x1b0") == ["alt+0"]
    assert parsed("\x1b-") == ["minus"]  # not an en dash (Textual names no alt+minus)
    adopt_escape_digits()  # twice is harmless
    assert parsed("\x1b9") == ["alt+9"]
    assert parsed("\x1bj") == ["alt+j"]  # letters were never mapped: unchanged


def test_an_unbound_alt_character_splits_into_escape_and_the_key() -> None:
    escape, key = split_escape(events.Key("alt+3", "3"), bound=set()) or (None, None)
    assert escape is not None and key is not None
    assert (escape.key, key.key, key.character) == ("escape", "3", "3")
    _, upper = split_escape(events.Key("alt+shift+a", "A"), bound=set()) or (None, None)
    assert upper is not None and (upper.key, upper.character) == ("A", "A")
    _, pilot_style = split_escape(events.Key("alt+4", None), bound=set()) or (None, None)
    assert pilot_style is not None and pilot_style.character == "4"
    # What something binds keeps its meaning; keys that are not characters are left alone.
    assert split_escape(events.Key("alt+3", "3"), bound={"alt+3"}) is None
    assert split_escape(events.Key("alt+enter", None), bound=set()) is None
    assert split_escape(events.Key("alt+up", None), bound=set()) is None
    assert split_escape(events.Key("3", "3"), bound=set()) is None
    assert split_escape(events.Key("ctrl+a", None), bound=set()) is None


async def test_the_number_keys_switch_screens_from_the_empty_message_box(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        chat = await open_mode(pilot, "3", ChatScreen)
        assert chat.focused is chat.input and chat.input.text == ""
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        chat = await open_mode(pilot, "3", ChatScreen)
        assert chat.focused is chat.input
        await pilot.press("a", "4", "5")  # once something is typed, digits are text
        await settle(pilot)
        assert app.screen is chat and chat.input.text == "a45"


async def alt_key(pilot: Pilot[Any], key: str, character: str) -> None:
    """An Alt+key as the terminal parser makes it (a character, unlike Pilot's ``press``)."""
    pilot.app.post_message(events.Key(key, character))
    await pilot.pause()
    await settle(pilot)


async def test_escape_then_a_digit_leaves_a_filter_and_switches_screens(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        projects = await open_mode(pilot, "1", ProjectsScreen)
        await pilot.press("slash", *"atl")
        box = projects.query_one("#project-filter", Input)
        assert projects.focused is box and box.value == "atl"
        await alt_key(pilot, "alt+3", "3")
        assert isinstance(app.screen, ChatScreen)
        assert box.value == "atl"  # no '3', no '£'
        await pilot.press("1")
        await settle(pilot)
        assert app.screen is projects and projects.focused is not box  # escape left the filter


async def test_escape_then_a_letter_leaves_the_filter_before_the_letter_acts(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        projects = await open_mode(pilot, "1", ProjectsScreen)
        await pilot.press("slash", *"a")
        box = projects.query_one("#project-filter", Input)
        assert projects.project_table.sort_column is None
        await alt_key(pilot, "alt+s", "s")  # escape, then s: the projects' sort key, not text
        assert box.value == "a"
        assert projects.focused is projects.project_table
        assert projects.project_table.sort_column is not None  # s sorted the list


async def test_question_mark_opens_the_help_from_chat_until_something_is_typed(demo_spec: LaunchSpec) -> None:
    from crewos_tui.screens.help import HelpScreen

    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        chat = await open_mode(pilot, "3", ChatScreen)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is chat and chat.focused is chat.input
        await pilot.press("escape")  # leave the box: '?' on the conversation opens the help too
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        chat.input.focus()
        await pilot.press("w", "h", "y", "question_mark")
        assert app.screen is chat and chat.input.text == "why?"
