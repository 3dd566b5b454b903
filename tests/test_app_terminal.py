"""The app on the terminals reviewers use over SSH: an ANSI theme where only 16 colours show."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle

SIZE = (80, 24)
ESC, BEL = "\x1b", "\x07"


def sixteen_colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.setenv("TERM", "xterm")


async def test_a_16_colour_terminal_gets_the_ansi_theme(demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    sixteen_colour_terminal(monkeypatch)
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.theme == "ansi-dark"


async def test_the_configured_theme_wins_over_the_terminal(
    demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    sixteen_colour_terminal(monkeypatch)
    async with make_app(replace(demo_spec, theme="nord")).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.theme == "nord"


async def test_a_truecolor_terminal_keeps_the_default_theme(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:  # conftest: COLORTERM=truecolor
        await settle(pilot)
        assert pilot.app.theme == "textual-dark"
