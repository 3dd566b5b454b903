"""Work the app holds back for a moment and must not lose on the way out.

Today that is the review screen's decisions in their undo window
(``screens/review_held.py``); anything else that waits before it is sent registers
the same way, with ``CrewOSApp.hold(work)``. Every way out sends held work first,
skipping the rest of its wait:

- a key (``ctrl+q``, ``q`` where it quits), the palette, ``app.exit()``: the app sends
  while it still draws. If something cannot be sent, a dialog names each item and
  why, and offers to stay (the item is undecided again and can be decided again) or
  to quit anyway.
- SIGTERM, SIGHUP, SIGINT (handlers in the app's own event loop, ``install_signal_handlers``):
  send, then exit through Textual's normal shutdown, so the terminal is restored. No
  dialog: nobody may be there to answer it.
- SIGHUP from a terminal that is gone (a dropped SSH session): nothing more is drawn
  (every write would fail, and Textual's shutdown can hang on its output thread); the
  app sends, closes the backend, writes what was not sent to unsent.log and ends the
  process itself.
- anything else that ends the app (a crash, a dead terminal): ``CrewOSApp.on_unmount``
  sends before the backend closes.

Sending is bounded by ``FLUSH_TIMEOUT`` seconds. Whatever was not sent is said after
the terminal is restored (``report_unsent``): one stderr line per item, the same lines
appended to ``unsent.log`` in the data dir (after SIGHUP there is no terminal to read
stderr on), and exit code 1. Nothing unsent is kept to be sent later: a decision
replayed at the next start could land on an item someone else has decided since.

A mixin of ``CrewOSApp``; light on purpose (the standard library and Textual).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import RenderableType

if TYPE_CHECKING:
    from textual.app import App
    from textual.worker import Worker

    _App = App[int]  # the mixin's host: CrewOSApp
else:
    _App = object

#: Seconds every way out waits for held work to be sent before it gives up on it.
FLUSH_TIMEOUT = 10.0
#: The signals that end the app after sending what it holds.
EXIT_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")
UNSENT_LOG = "unsent.log"


class HeldWork(Protocol):
    """Something the app holds back (a decision in its undo window) and sends on the way out."""

    def held_count(self) -> int:
        """How many things wait or are being sent."""
        ...

    async def flush(self, within: float) -> list[str]:
        """Send everything now; one line (what and why) per thing that could not be sent."""
        ...


class ExitGuard(_App):
    # Set up by init_exit_guard (CrewOSApp.__init__).
    held_work: list[HeldWork]
    unsent: list[str]
    _may_exit: bool
    _exit_flush: Worker[None] | None
    _asking: list[str] | None
    _signal: int | None
    _frozen: Any

    def init_exit_guard(self) -> None:
        self.held_work = []
        self.unsent = []  # what was not sent, for report_unsent once the terminal is back
        self._may_exit = False
        self._exit_flush = None
        self._asking = None  # the unsent lines while the dialog asks whether to quit anyway
        self._signal = None
        self._frozen = None  # the open batch that stops drawing once the terminal is gone

    def hold(self, work: HeldWork) -> None:
        if work not in self.held_work:
            self.held_work.append(work)

    def held_count(self) -> int:
        return sum(w.held_count() for w in self.held_work)

    async def flush_held(self) -> list[str]:
        """Send every held thing now; the lines of those that could not be sent."""
        lines: list[str] = []
        for work in list(self.held_work):
            lines += await work.flush(FLUSH_TIMEOUT)
        return lines

    # ---- the ways out ------------------------------------------------------------------

    def exit(self, result: int | None = None, return_code: int = 0,
             message: RenderableType | None = None) -> None:
        """Textual's exit, once held work is sent (every quit key and ``app.exit()`` come here)."""
        if self._asking is not None and not self._may_exit:  # the dialog is up: only a signal gets past it
            if self._signal is not None:
                self._finish_exit(self._asking, result, return_code, message)
            return
        if self._may_exit or not self.held_count():
            if self.unsent:
                return_code = return_code or 1
            super().exit(result, return_code, message)
            return
        if self._exit_flush is None:
            self._exit_flush = self.run_worker(self._flush_then_exit(result, return_code, message),
                                               group="exit-flush", exit_on_error=False)

    async def _flush_then_exit(self, result: int | None, return_code: int,
                               message: RenderableType | None) -> None:
        count = self.held_count()
        if self._signal is None:
            self.notify(f"Sending {count} held decision{'s' if count != 1 else ''} before quitting…",
                        timeout=FLUSH_TIMEOUT)
        try:
            lines = await self.flush_held()
        finally:
            self._exit_flush = None
        if lines and self._signal is None:
            self._ask_before_quitting(lines, result, return_code, message)
            return
        self._finish_exit(lines, result, return_code, message)

    def _ask_before_quitting(self, lines: list[str], result: int | None, return_code: int,
                             message: RenderableType | None) -> None:
        from .widgets.confirm import ConfirmModal
        from .widgets.safe_text import literal

        self._asking = lines
        n = len(lines)
        text = literal("\n".join(f"- {line}" for line in lines)
                       + f"\n\nQuit anyway (the {'item stays' if n == 1 else 'items stay'} undecided, listed on the"
                       " terminal and in unsent.log), or stay and decide again?", multiline=True)

        def answered(quit_anyway: bool | None) -> None:
            asked, self._asking = self._asking, None
            if asked is None:  # a signal ended it meanwhile
                return
            if quit_anyway:
                self._finish_exit(asked, result, return_code, message)
            else:
                self.notify(f"Not quitting: {n} decision{'s were' if n != 1 else ' was'} not sent; "
                            "decide again or quit.", severity="warning")

        self.push_screen(ConfirmModal(f"{n} decision{'s' if n != 1 else ''} could not be sent", text,
                                      yes="Quit anyway"), answered)

    def _finish_exit(self, lines: list[str], result: int | None, return_code: int,
                     message: RenderableType | None) -> None:
        self._asking = None
        self.unsent += lines
        self._may_exit = True
        self.exit(result, return_code, message)

    # ---- signals -------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGTERM, SIGHUP and SIGINT send held work, then end the app cleanly (terminal restored).
        Installed in the running loop; they go when the loop closes."""
        loop = asyncio.get_running_loop()
        for name in EXIT_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:  # not on this platform
                continue
            try:
                loop.add_signal_handler(signum, self.on_exit_signal, int(signum))
            except (NotImplementedError, RuntimeError, ValueError):  # no signals here (Windows, a thread)
                return

    def on_exit_signal(self, signum: int) -> None:
        self._signal = signum
        if signum == getattr(signal, "SIGHUP", None) and terminal_gone():
            if self._frozen is None:  # once
                self._leave_without_terminal()
            return
        self.exit()

    def _leave_without_terminal(self) -> None:
        """The terminal hung up (a dropped SSH session): draw nothing more, since every write
        fails and Textual's shutdown can wait forever on its writer; send what is held, close
        the backend, say what was not sent (in unsent.log), and end the process."""
        self._frozen = self.batch_update()  # no more frames: nothing is drawn while a batch is open
        self._frozen.__enter__()
        asyncio.get_running_loop().create_task(self._send_and_leave())  # not a worker: those go with the loop

    async def _send_and_leave(self) -> None:
        import os

        from . import paths

        code = 1
        try:
            self.unsent += await self.flush_held()
            close: Any = getattr(self, "_close_backend", None)  # BackendHolder's
            if close is not None:
                await close()
            spec: Any = getattr(self, "spec", None)
            data = (spec.data_dir if spec is not None else None) or paths.data_dir()
            report_unsent(self.unsent, data, spec.profile if spec is not None else "?")
            code = 1 if self.unsent else 0
        finally:
            os._exit(code)  # the rest of shutdown is the terminal's, and there is none


def terminal_gone() -> bool:
    """Whether the app's terminal hung up: asking it for its settings fails with EIO."""
    import errno
    import termios

    stream = sys.__stdin__
    if stream is None:
        return False
    try:
        termios.tcgetattr(stream.fileno())
    except termios.error as exc:
        return bool(exc.args) and exc.args[0] == errno.EIO
    except (OSError, ValueError):
        return False
    return False


def report_unsent(lines: list[str], data: Path, profile: str) -> None:
    """Say what was not sent, once the terminal is back: to unsent.log in the data dir first
    (a hung-up terminal has no stderr), then one stderr line each. Never raises."""
    import time

    from . import paths

    if not lines:
        return
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the hang-up that ended the app must not cut this short
    log: Path | None = data / UNSENT_LOG
    try:
        paths.private_dir(data)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
        assert log is not None
        with log.open("a", encoding="utf-8") as f:
            for line in lines:
                f.write(f"{stamp} [{profile}] not sent: {line}\n")
        log.chmod(paths.PRIVATE_FILE_MODE)
    except OSError:
        log = None
    try:
        for line in lines:
            print(f"crewos-tui: not sent: {line}", file=sys.stderr)
        if log is not None:
            print(f"crewos-tui: the unsent decisions are listed in {log}", file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):  # the terminal is gone (SIGHUP): the log has them
        pass
