"""The installed ``crewos-tui`` in a real terminal: a tmux session on a tmux server of the
test's own (never the user's), driven by keys the way a user over SSH drives it.

``Terminal.press`` counts every keystroke it sends, so a flow test can state how many keys
a task takes and fail when a change makes it longer."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest


def crewos_command() -> list[str]:
    exe = Path(sys.executable).parent / "crewos-tui"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("crewos-tui")
    return [found] if found else [sys.executable, "-m", "crewos_tui.cli"]


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def tmux_or_skip() -> str:
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (the CI script installs it)")
        pytest.skip("tmux is not installed")
    return tmux


class Terminal:
    """One ``crewos-tui`` (``--demo`` unless told otherwise) in a tmux pane of ``width`` x
    ``height``. The pane stays open after the app exits, so its last words can be read."""

    def __init__(self, tmp_path: Path, *, args: tuple[str, ...] = ("--demo",), width: int = 80,
                 height: int = 24, env: Mapping[str, str] | None = None, name: str = "crewos") -> None:
        self.tmux = tmux_or_skip()
        self.socket = f"crewos-{name}-{os.getpid()}-{tmp_path.name}"
        self.data = tmp_path / "data"
        self.pid_file, self.rc_file = tmp_path / "pid", tmp_path / "rc"
        self.keystrokes = 0
        full_env = {
            "CREWOS_TUI_DATA_DIR": str(self.data),
            "CREWOS_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "TERM": "xterm-256color",
            **(env or {}),
        }
        app = " ".join(shlex.quote(part) for part in [*crewos_command(), *args])
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in full_env.items())
        # The app's own pid (exec keeps it), its exit code, and a pane kept open to read.
        inner = f"echo $$ > {shlex.quote(str(self.pid_file))}; exec env {exports} {app}"
        script = f"sh -c {shlex.quote(inner)}; echo $? > {shlex.quote(str(self.rc_file))}; sleep 120"
        self.tm("new-session", "-d", "-s", "crewos", "-x", str(width), "-y", str(height), script)

    def tm(self, *args: str) -> str:
        return subprocess.run([self.tmux, "-L", self.socket, *args], capture_output=True, text=True,
                              check=True).stdout

    def pane(self) -> str:
        return self.tm("capture-pane", "-p", "-t", "crewos")

    def press(self, *keys: str) -> None:
        """Named keys (tmux names: ``Enter``, ``Escape``, ``Tab``, ``C-r``, ``a``), one
        keystroke each, sent one at a time as a person would."""
        for key in keys:
            self.tm("send-keys", "-t", "crewos", key)
            self.keystrokes += 1
            time.sleep(0.05)

    def type(self, text: str) -> None:
        """Literal text: one keystroke per character."""
        self.tm("send-keys", "-t", "crewos", "-l", text)
        self.keystrokes += len(text)

    def wait_for_text(self, text: str, timeout: float = 30) -> str:
        try:
            wait_for(lambda: text in self.pane(), timeout, f"{text!r} on screen")
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}; the screen shows:\n{self.pane()}") from None
        return self.pane()

    @property
    def pid(self) -> int:
        return int(self.pid_file.read_text())

    def exited(self) -> bool:
        """Gone, or a zombie nobody has reaped yet (in a container no init may reap it)."""
        try:
            return Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except (FileNotFoundError, ProcessLookupError):
            return True

    def quit_cleanly(self) -> None:
        """``ctrl+q``, then the exit code 0 and no traceback on the restored screen."""
        self.tm("send-keys", "-t", "crewos", "C-q")
        wait_for(self.rc_file.exists, 60, "the app to exit")
        history = self.tm("capture-pane", "-p", "-S", "-", "-t", "crewos")  # with what scrolled off
        assert self.rc_file.read_text().strip() == "0", history
        assert "Traceback" not in history, history

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True, check=False)
