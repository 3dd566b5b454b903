"""The installed ``crewos-tui --demo`` in a real pseudo-terminal (tmux, 80x24):
it shows the projects screen with demo data and quits cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from .tmux_support import Terminal, wait_for

pytestmark = pytest.mark.pty


def test_demo_runs_in_a_real_terminal_and_quits_cleanly(tmp_path: Path) -> None:
    term = Terminal(tmp_path, name="pty")
    try:
        screen = term.wait_for_text("Atlas Launch", 60)
        assert "DEMO" in screen and "maya (admin)" in screen
        term.press("q")
        wait_for(term.rc_file.exists, 30, "the app to exit")
        assert term.rc_file.read_text().strip() == "0"
        assert "Traceback" not in term.pane()
    finally:
        term.close()
