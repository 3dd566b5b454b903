"""The escape sequences of a desktop notification and a title mark: plain, tmux-wrapped,
and clean of anything a terminal would act on when the text comes from someone else."""

from __future__ import annotations

import pytest

from crewos_tui.attention import (
    ENV,
    MAX_TEXT,
    POP_TITLE,
    PUSH_TITLE,
    clean,
    desktop_notification,
    desktop_notifications_on,
    marked_title,
    notification_protocols,
    osc9,
    osc777,
    title_sequence,
    tmux_passthrough,
)

ESC, BEL = "\x1b", "\x07"


def test_osc9_and_osc777_plain() -> None:
    assert osc9("crewos: Review requested") == f"{ESC}]9;crewos: Review requested{BEL}"
    assert osc777("crewos: Review", "ann asks") == f"{ESC}]777;notify;crewos: Review;ann asks{BEL}"
    assert title_sequence("● crewos") == f"{ESC}]2;● crewos{BEL}"
    assert (f"{ESC}[22;0t", f"{ESC}[23;0t") == (PUSH_TITLE, POP_TITLE)


def test_an_unknown_terminal_gets_both_protocols() -> None:
    out = desktop_notification("Review requested in Atlas", "ann asks for your review.", {"TERM": "xterm-256color"})
    assert out == (
        f"{ESC}]9;crewos: Review requested in Atlas — ann asks for your review.{BEL}"
        f"{ESC}]777;notify;crewos: Review requested in Atlas;ann asks for your review.{BEL}"
    )


@pytest.mark.parametrize(
    ("env", "protocols"),
    [
        ({"TERM": "rxvt-unicode-256color"}, ("osc777",)),
        ({"TERM": "foot"}, ("osc777",)),
        ({"TERM": "xterm-256color", "VTE_VERSION": "7600"}, ("osc777",)),
        ({"TERM": "xterm-kitty"}, ("osc9",)),
        ({"TERM_PROGRAM": "iTerm.app"}, ("osc9",)),
        ({"TERM_PROGRAM": "WezTerm"}, ("osc9",)),
        ({"WT_SESSION": "x"}, ("osc9",)),
        ({"TERM": "screen-256color", "TERM_PROGRAM": "tmux", "TMUX": "/tmp/t,1,0"}, ("osc9", "osc777")),
    ],
    ids=repr,
)
def test_a_known_terminal_gets_the_one_it_speaks(env: dict[str, str], protocols: tuple[str, ...]) -> None:
    assert notification_protocols(env) == protocols


def test_inside_tmux_each_sequence_is_wrapped_with_its_escapes_doubled() -> None:
    out = desktop_notification("T", "b", {"TMUX": "/tmp/tmux-1000/default,1,0", "TERM": "screen"})
    assert out == (
        f"{ESC}Ptmux;{ESC}{ESC}]9;crewos: T — b{BEL}{ESC}\\{ESC}Ptmux;{ESC}{ESC}]777;notify;crewos: T;b{BEL}{ESC}\\"
    )
    assert tmux_passthrough(f"{ESC}]9;x{BEL}") == f"{ESC}Ptmux;{ESC}{ESC}]9;x{BEL}{ESC}\\"


HOSTILE = [
    f"evil{ESC}]2;pwned{BEL}title",  # end our OSC early and start another
    f"evil{ESC}\\{ESC}[2Jtitle",  # ST, then clear the screen
    "evil\x9c\x9b2Jtitle",  # the same with 8-bit C1 controls (ST, CSI)
    "evil\x07\x00\x7ftitle",  # BEL, NUL, DEL
    "evil\r\ntitle",  # a second line
    "evil\u202etitle\u2066",  # bidi override and isolate
]


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_untrusted_text_cannot_end_or_start_a_sequence(text: str) -> None:
    # Only our own ESCs and BELs are left: one ESC and one BEL per plain sequence; inside
    # tmux, ESC P, the doubled ESC and ESC \ for each.
    for out, sequences, escapes in (
        (desktop_notification(text, text, {}), 2, 2),
        (title_sequence(text), 1, 1),
        (desktop_notification(text, text, {"TMUX": "x"}), 2, 8),
    ):
        assert (out.count(ESC), out.count(BEL)) == (escapes, sequences), repr(out)
        assert not any(ch in out for ch in "\x9c\x9b\x00\x7f\r\n\u202e\u2066")
    assert clean(text).startswith("evil") and clean(text).endswith("title")


def test_clean_keeps_text_on_one_line_and_caps_it() -> None:
    assert clean("a\t b\n\n c") == "a b c"
    long = clean("x" * 1000)
    assert len(long) == MAX_TEXT and long.endswith("…")
    assert clean("Review requested in Łódź ✓") == "Review requested in Łódź ✓"


def test_a_semicolon_in_an_osc777_title_does_not_shift_the_body() -> None:
    assert osc777("a;b", "c;d") == f"{ESC}]777;notify;a,b;c;d{BEL}"


def test_the_title_mark() -> None:
    assert marked_title("crewos", 1) == "● crewos — 1 decision waiting"
    assert marked_title("crewos", 3) == "● crewos — 3 decisions waiting"


@pytest.mark.parametrize(
    ("value", "configured", "on"),
    [
        (None, True, True),
        (None, False, False),
        ("0", True, False),
        ("off", True, False),
        ("1", False, True),
        ("yes", False, True),
        ("maybe", True, True),
        ("", False, False),
    ],
)
def test_the_environment_overrides_the_config(value: str | None, configured: bool, on: bool) -> None:
    env = {} if value is None else {ENV: value}
    assert desktop_notifications_on(configured, env) is on
