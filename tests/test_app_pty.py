"""The installed ``crewos-tui --demo`` in a real pseudo-terminal (tmux, 80x24):
it shows the projects screen with demo data and quits cleanly on ``q``."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.pty


def crewos_command() -> list[str]:
    exe = Path(sys.executable).parent / "crewos-tui"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("crewos-tui")
    return [found] if found else [sys.executable, "-m", "crewos_tui.cli"]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_demo_runs_in_a_real_terminal_and_quits_cleanly(tmp_path: Path) -> None:
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (the CI script installs it)")
        pytest.skip("tmux is not installed")
    socket = f"crewos-pty-{os.getpid()}"  # a private tmux server: never the user's
    rc_file = tmp_path / "rc"
    env = {
        "CREWOS_TUI_DATA_DIR": str(tmp_path / "data"),
        "CREWOS_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "TERM": "xterm-256color",
    }
    app = " ".join(shlex.quote(part) for part in [*crewos_command(), "--demo"])
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # Keep the pane open after the app exits, so its last words can be read.
    script = f"env {exports} {app}; echo $? > {shlex.quote(str(rc_file))}; sleep 60"

    def tm(*args: str) -> str:
        return subprocess.run([tmux, "-L", socket, *args], capture_output=True, text=True, check=True).stdout

    def pane() -> str:
        return tm("capture-pane", "-p", "-t", "crewos")

    tm("new-session", "-d", "-s", "crewos", "-x", "80", "-y", "24", script)
    try:
        wait_for(lambda: "Atlas Launch" in pane(), 60, "the demo projects")
        screen = pane()
        assert "DEMO" in screen and "maya (admin)" in screen
        tm("send-keys", "-t", "crewos", "q")
        wait_for(rc_file.exists, 30, "the app to exit")
        assert rc_file.read_text().strip() == "0"
        assert "Traceback" not in pane()
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True, check=False)
