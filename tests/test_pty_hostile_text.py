"""Other people's text can never hurt your terminal (issue 14), checked on the bytes.

The installed ``crewos-tui --demo`` runs in a real pseudo-terminal (``os.openpty``,
160x50) on a demo workspace seeded with hostile text (``tests/hostile_support.py``).
The test reads every byte the app writes while it walks all ten screens (keys 1..9, 0),
filters the projects down to the hostile one, opens its edit and archive dialogs,
follows the newest notification, and quits with ctrl+q. Then, on the raw stream:

- the app exited with 0 and printed no traceback;
- none of the payload's escape sequences reached the terminal: each is followed by its
  own tag (``ZQ1``...), so only the payload can match (clear screen, OSC 52 clipboard,
  OSC 8 hyperlink, window title, the C1 CSI, NUL, the RLO override, eve's name);
- nor anything of their kind: no ``ESC[2J`` and no OSC 52 at all (Textual writes neither
  here), no hyperlink to a hostile address, no C1 control, no bidi control, no NUL, no
  BEL outside Textual's own OSC replies;
- and the payload was on screen, shown as pictures (``␛[2JZQ1``), with its Rich markup
  as plain text: the checks above are about text that was really drawn.

Without the display rule (``visible()`` in ``backend/text_safety.py``) this test fails:
the raw ``ESC[2JZQ1`` and the RLO reach the stream.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from crewos_tui import paths
from crewos_tui.screens.registry import MODES

from .conftest import copy_database
from .hostile_support import (
    C1_CSI,
    CLEAR_SCREEN,
    CLIPBOARD,
    HOSTILE_NAME,
    HYPERLINK_URL,
    NUL,
    RLO,
    SHOWN,
    TITLE,
    seed_hostile,
)
from .tmux_support import crewos_command

#: Every wait below has its own bound; a loaded machine slows each round trip through a
#: real terminal, so the suite's 120 s net is widened for this one test.
pytestmark = [pytest.mark.pty, pytest.mark.timeout(300)]

COLUMNS, ROWS = 160, 50
MODE_KEYS = "1234567890"
CTRL_Q = b"\x11"
ESC = b"\x1b"
BLINK_BYTES = 256  # less than this written in a quiet spell is a cursor blinking, not the app at work

#: The escape sequences Textual writes (CSI, OSC, and the two-character ones), for reading the text between them.
_SEQUENCE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78c]")
_OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_HYPERLINK_TARGET = re.compile(rb"\x1b\]8;[^;\x07\x1b]*;([^\x07\x1b]*)")
_C1 = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080..U+009F in UTF-8: a terminal may act on them (0x9b is CSI)
_BIDI = re.compile(rb"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xe2\x80[\x8e\x8f]|\xd8\x9c")


def text_of(stream: bytes) -> str:
    """What the stream draws, with the escape sequences taken out."""
    return _SEQUENCE.sub(b"", stream).decode("utf-8", errors="replace")


class Terminal:
    """A pseudo-terminal running one process; collects every byte the process writes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        try:
            # Its own session: the pty is all it has, and a kill reaches it alone.
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                         start_new_session=True, close_fds=True)
        finally:
            os.close(slave)
        self.out = bytearray()
        self.closed = False
        self.mode_key = MODE_KEYS[0]  # the app opens on the first screen

    def pump(self, seconds: float) -> None:
        """Read for ``seconds`` (less if the process closed the terminal)."""
        deadline = time.monotonic() + seconds
        while not self.closed and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: every writer of the terminal is gone
                    chunk = b""
                if not chunk:
                    self.closed = True
                self.out.extend(chunk)

    def settle(self, quiet: float = 0.5, least: float = 0.3, most: float = 15.0) -> None:
        """Read until the app has been quiet for ``quiet`` seconds: a blinking cursor's
        redraw (a few dozen bytes) does not count as activity."""
        start = time.monotonic()
        self.pump(least)
        while not self.closed and time.monotonic() - start < most:
            before = len(self.out)
            self.pump(quiet)
            if len(self.out) - before < BLINK_BYTES:
                return

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in text_of(bytes(self.out)):
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the app wrote:\n{text_of(bytes(self.out))[-2000:]}")
            self.pump(0.2)

    def press(self, key: bytes, settle: bool = True) -> None:
        os.write(self.master, key)
        if key == ESC:  # a lone ESC is a key only once the app has waited for more (ESCDELAY)
            self.pump(0.5)
        if settle:
            self.settle()

    def type(self, text: str) -> None:
        for ch in text:
            self.press(ch.encode(), settle=False)
            self.pump(0.05)
        self.settle()

    def drew_since(self, start: int) -> str:
        return text_of(bytes(self.out[start:]))

    def expect(self, key: bytes, text: str, timeout: float = 15) -> None:
        """Press ``key`` and wait until ``text`` is drawn."""
        start = len(self.out)
        self.press(key, settle=False)
        deadline = time.monotonic() + timeout
        while text not in self.drew_since(start):
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(f"{key!r} never drew {text!r}")
            self.pump(0.2)
        self.settle()

    def switch(self, key: str, title: str) -> None:
        """Press a mode key until the screen's header (`` 4 Review ``) is drawn: a key the
        chat's input box took is typed there, and an ESC leaves the box first."""
        if key == self.mode_key:
            return
        for _ in range(3):
            start = len(self.out)
            self.press(key.encode(), settle=False)
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline and f" {key} {title} " not in self.drew_since(start):
                self.pump(0.2)
            if f" {key} {title} " in self.drew_since(start):
                self.mode_key = key
                self.settle()
                return
            self.press(ESC)
        raise AssertionError(f"key {key} never showed the {title} screen")

    def close(self) -> int | None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only what this test started
        code = self.proc.wait(10)
        os.close(self.master)
        return code


def open_terminal(argv: list[str], env: dict[str, str]) -> Terminal:
    try:
        return Terminal(argv, env)
    except OSError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"no pseudo-terminal on CI: {exc}")
        pytest.skip(f"no pseudo-terminal available here: {exc}")


def walk(term: Terminal) -> int:
    """Every screen, the hostile project's dialogs, a notification, ctrl+q. Returns where
    in the stream start-up ended."""
    term.wait_for("Atlas Launch", 60)  # connected, the demo projects listed
    term.settle()
    started = len(term.out)
    for mode in sorted(MODES, key=lambda m: MODE_KEYS.index(m.key)):
        term.switch(mode.key, mode.title)
    # The projects screen, filtered down to the hostile project; its dialogs.
    term.switch("1", "Projects")
    term.press(b"/")
    term.type("ZQ1")
    term.press(b"\r")
    term.wait_for(SHOWN["clear"], 20)
    term.expect(b"e", "Edit x [/] [@click=app.quit]")  # the edit dialog; the name in a TextInput
    term.press(ESC)
    term.expect(b"x", "Archive x [/] [@click=app.quit]")  # archiving asks first, quoting the name
    term.press(b"n")
    # The newest notification (devon's mention), followed to where it points.
    term.switch("5", "Notifications")
    term.press(b"\r")
    term.press(CTRL_Q, settle=False)
    deadline = time.monotonic() + 30
    while term.proc.poll() is None and time.monotonic() < deadline:
        term.pump(0.2)
    term.pump(0.5)
    return started


def test_hostile_text_never_reaches_the_terminal_as_escapes(demo_template: Path, tmp_path: Path) -> None:
    if not hasattr(os, "openpty"):
        pytest.skip("this platform has no os.openpty")
    data = tmp_path / "data"
    copy_database(demo_template, paths.database_file(data, demo=True))
    asyncio.run(seed_hostile(data))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}  # the pty's size rules
    env.update(CREWOS_TUI_DATA_DIR=str(data), CREWOS_TUI_CONFIG_DIR=str(tmp_path / "config"),
               TERM="xterm-256color")
    term = open_terminal([*crewos_command(), "--demo"], env)
    started, lost = 0, None
    try:
        started = walk(term)
    except AssertionError as exc:  # the stream says more about why: checked first
        lost = exc
    finally:
        code = term.close()
        (tmp_path / "terminal.bin").write_bytes(term.out)  # for a look after a failure
    stream = bytes(term.out)
    shown = text_of(stream)

    # The payload's own sequences (terminators left out: Rich drops a BEL): the tags make them unmistakable.
    for name, raw in (("clear screen", CLEAR_SCREEN), ("OSC 52", CLIPBOARD[:-1]),
                      ("OSC 8", f"\x1b]8;;{HYPERLINK_URL}"), ("window title", TITLE[:-1]), ("C1 CSI", C1_CSI),
                      ("NUL", NUL), ("RLO", RLO), ("eve's name", HOSTILE_NAME)):
        assert raw.encode() not in stream, f"the payload's {name} reached the terminal"
    # Nothing of their kind either, from anywhere.
    assert b"\x1b[2J" not in stream[started:], "a clear-screen sequence after start-up"
    assert b"\x1b]52;" not in stream, "a clipboard write"
    targets = _HYPERLINK_TARGET.findall(stream)
    assert not [t for t in targets if b"evil" in t or b"e.x" in t], targets
    assert not _C1.findall(stream), "a C1 control character"
    assert not _BIDI.findall(stream), "a bidi control character"
    assert b"\x00" not in stream, "a NUL byte"
    assert b"\x07" not in _OSC.sub(b"", stream), "a BEL outside an OSC sequence"
    if lost is not None:
        raise lost
    assert code == 0, f"exit code {code}; the app wrote:\n{shown[-3000:]}"
    assert b"Traceback" not in stream, shown[-3000:]
    # The hostile text was drawn, literally: as pictures, its markup as plain text.
    for picture in (SHOWN["clear"], SHOWN["clipboard"], SHOWN["nul"], SHOWN["rlo"]):
        assert picture in shown, f"{picture!r} was never drawn"
    assert "[@click=app.quit]Q[/]" in shown and "[link=http://e.x]L[/link]" in shown
