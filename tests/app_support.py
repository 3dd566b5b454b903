"""Helpers for the app tests: an app factory and a way to wait until the app is idle. The fixtures that seed the demo
database once per session and hand each test its copy (``demo_template``,
``demo_spec``) live in conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from textual.pilot import Pilot

from crewos_tui.app import CrewOSApp
from crewos_tui.launch import LaunchSpec

S = TypeVar("S")


def make_app(spec: LaunchSpec, **kw: Any) -> CrewOSApp:
    return CrewOSApp(spec, cursor_blink=False, **kw)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the app is connected (or gave up), no worker runs, no review decision
    is being sent and no live-update reload is pending."""
    app: Any = pilot.app
    from textual.widgets import DataTable
    from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

    def busy() -> bool:
        session = getattr(app, "session", None)
        return (
            # not only running: a worker created by a message handled a moment ago is still pending
            any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
            or getattr(app, "_change_timer", None) is not None
            or sending()  # a review decision on its way (the app's own task, not a worker)
            or (session is not None and session.health == "connecting")  # connect starts after the first frame
            or tables_measuring()
        )

    def sending() -> bool:
        held = getattr(app, "held_decisions", None)
        return bool(held is not None and held.sending)

    def tables_measuring() -> bool:
        # A DataTable sizes its columns for new rows when it next goes idle: until then a
        # screenshot shows columns as wide as their labels.
        return any(getattr(table, "_require_update_dimensions", False) or getattr(table, "_updated_cells", None)
                   for screen in app.screen_stack for table in screen.query(DataTable))

    for _ in range(200):
        try:
            await app.workers.wait_for_complete()
        except WorkerFailed:
            pass  # reported by the app as a notification; the test checks that
        except WorkerCancelled:
            pass  # an exclusive worker superseded by a newer one: normal
        await pilot.pause()
        if not busy():
            await pilot.pause()  # a screen pushed by the last worker finishes composing...
            if not busy():  # ...and whatever its messages started has finished too
                return
        await pilot.pause(0.05)
    raise AssertionError("the app did not settle")


class Notes:
    """Records every notification the app shows."""

    def __init__(self, app: CrewOSApp) -> None:
        self.items: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, *, severity: str = "information", **kw: Any) -> None:
            self.items.append((severity, str(message)))
            original(message, severity=severity, **kw)  # type: ignore[arg-type]

        app.notify = notify  # type: ignore[method-assign]

    def errors(self) -> list[str]:
        return [m for s, m in self.items if s == "error"]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)


async def open_mode(pilot: Pilot[Any], key: str, cls: type[S]) -> S:
    """Press a screen's number key once the app is idle; the screen on top, checked to be ``cls``."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, cls), screen
    return screen


def terminal_writes(app: Any) -> list[str]:
    """What the app writes to the terminal besides its frames (OSC 52, OSC 9, titles):
    the headless driver drops it, so it is recorded here, in order."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    real_write = driver.write

    def record(data: str) -> None:
        written.append(data)
        real_write(data)

    driver.write = record  # type: ignore[method-assign]
    return written
