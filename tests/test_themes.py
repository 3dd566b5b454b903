"""The automatic theme: an ANSI one where the terminal shows 16 colours (as Rich decides
from the same environment), the configured one whenever there is one."""

from __future__ import annotations

import pytest

from crewos_tui.themes import ANSI_DARK, ANSI_LIGHT, automatic_theme, pick_theme, sixteen_colours


@pytest.mark.parametrize(
    "env",
    [
        {"TERM": "xterm"},
        {"TERM": "screen"},
        {"TERM": "linux"},
        {"TERM": "vt100"},
        {"TERM": "xterm-16color"},
        {"TERM": "dumb"},
        {},  # no TERM at all (a cron job, some CI runners)
        {"TERM": "xterm-256color", "NO_COLOR": "1"},
        {"COLORTERM": "truecolor", "NO_COLOR": "yes"},
        {"COLORTERM": "truecolor", "NO_COLOR": ""},  # Textual drops colours when it is there at all
        {"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"},
    ],
    ids=repr,
)
def test_sixteen_colour_terminals_get_an_ansi_theme(env: dict[str, str]) -> None:
    assert sixteen_colours(env)
    assert automatic_theme(env) == ANSI_DARK


@pytest.mark.parametrize(
    "env",
    [
        {"TERM": "xterm-256color"},
        {"TERM": "screen-256color"},
        {"TERM": "tmux-256color"},
        {"TERM": "xterm-kitty"},
        {"TERM": "xterm", "COLORTERM": "truecolor"},
        {"TERM": "linux", "COLORTERM": "24bit"},
        {"TERM": "xterm", "TEXTUAL_COLOR_SYSTEM": "truecolor"},
    ],
    ids=repr,
)
def test_terminals_with_more_colours_keep_the_default(env: dict[str, str]) -> None:
    assert not sixteen_colours(env)
    assert automatic_theme(env) is None


def test_windows_consoles_keep_the_default() -> None:
    assert automatic_theme({}, windows=True) is None
    assert automatic_theme({"NO_COLOR": "1"}, windows=True) == ANSI_DARK


@pytest.mark.parametrize(
    ("colorfgbg", "theme"),
    [("0;15", ANSI_LIGHT), ("0;default;7", ANSI_LIGHT), ("15;0", ANSI_DARK), ("7;8", ANSI_DARK), ("junk", ANSI_DARK)],
)
def test_a_light_background_gets_the_light_ansi_theme(colorfgbg: str, theme: str) -> None:
    assert automatic_theme({"TERM": "rxvt", "COLORFGBG": colorfgbg}) == theme


def test_an_explicit_theme_wins_over_the_terminal() -> None:
    assert pick_theme("nord", {"TERM": "xterm"}) == "nord"
    assert pick_theme("ansi-light", {"COLORTERM": "truecolor"}) == "ansi-light"


def test_no_theme_or_auto_lets_the_terminal_decide() -> None:
    for configured in (None, "", "auto", "AUTO "):
        assert pick_theme(configured, {"TERM": "screen"}) == ANSI_DARK
        assert pick_theme(configured, {"TERM": "screen-256color"}) is None
