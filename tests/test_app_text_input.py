"""``TextInput`` draws the control characters of its value as pictures (``ESC`` as
``␛``); its cursor, its scrolling and its clicks must follow what it draws.

A control character takes no cell in the terminal's reckoning (``cell_len("\\x1b") ==
0``) but its picture takes one, and a tab counts four cells where its picture ``␉``
takes one. The check is differential: a ``TextInput`` holding hostile text must behave,
cell for cell, like a plain ``Input`` holding the pictures it draws."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input

from crewos_tui.widgets.safe_text import visible
from crewos_tui.widgets.text_input import TextInput

VALUES = [
    "\x1b\x1bZZZZ",  # two zero-width controls, then text
    "日本\x1b[2J語\tx\u202eyz",  # wide characters, ESC, a tab, a bidi override
    "\x1b" * 40 + "END",  # longer than the box: it scrolls to the cursor
    "a\x00b\x7fc\x9bd",  # NUL, DEL, a C1 control
]


class Pair(App[None]):
    """A TextInput with hostile text above a plain Input with its pictures, same width."""

    CSS = "Input { width: 24; }"

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value
        self.cursor_blink = False  # read by TextInput

    def compose(self) -> ComposeResult:
        yield TextInput(self.value, id="hostile")
        yield Input(visible(self.value), id="shown")

    @property
    def hostile(self) -> TextInput:
        return self.query_one("#hostile", TextInput)

    @property
    def shown(self) -> Input:
        return self.query_one("#shown", Input)


def row_text(pilot: Pilot[Any], widget: Input) -> str:
    """The characters on the input's text row, inside its border."""
    region = widget.content_region
    strip = pilot.app.screen._compositor.render_strips()[region.y]
    line = "".join(seg.text for seg in strip if not seg.control)
    return line[region.x:region.right]


def cursor_x(widget: Input) -> int:
    return widget.cursor_screen_offset.x - widget.content_region.x


async def focus(pilot: Pilot[Any], widget: Input, position: int) -> None:
    widget.focus()
    await pilot.pause()
    widget.cursor_position = position
    await pilot.pause()


@pytest.mark.parametrize("value", VALUES)
async def test_the_cursor_sits_where_the_pictures_are(value: str) -> None:
    app = Pair(value)
    async with app.run_test(size=(40, 8)) as pilot:
        hostile, shown = app.hostile, app.shown
        for position in range(len(value) + 1):
            await focus(pilot, hostile, position)
            got = (cursor_x(hostile), hostile.scroll_offset.x, row_text(pilot, hostile))
            await focus(pilot, shown, position)
            want = (cursor_x(shown), shown.scroll_offset.x, row_text(pilot, shown))
            assert got == want, f"cursor at {position} of {value!r}"
        assert "\x1b" not in row_text(pilot, hostile)


@pytest.mark.parametrize("value", VALUES)
async def test_a_click_puts_the_cursor_under_the_mouse(value: str) -> None:
    app = Pair(value)
    async with app.run_test(size=(40, 8)) as pilot:
        hostile, shown = app.hostile, app.shown
        for widget in (hostile, shown):
            await focus(pilot, widget, 0)  # scrolled to the start
        gutter = hostile.content_region.x - hostile.region.x
        for cell in range(hostile.content_region.width):
            await pilot.click("#hostile", offset=(gutter + cell, 1))
            await pilot.click("#shown", offset=(gutter + cell, 1))
            assert hostile.cursor_position == shown.cursor_position, f"click on cell {cell} of {value!r}"


async def test_the_end_of_a_long_hostile_value_is_in_view() -> None:
    app = Pair("\x1b" * 40 + "END")
    async with app.run_test(size=(40, 8)) as pilot:
        await focus(pilot, app.hostile, 43)
        assert "END" in row_text(pilot, app.hostile)
