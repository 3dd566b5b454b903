"""An Input that follows the app's cursor-blink setting (off in snapshot tests, where
a blinking cursor would make screenshots differ run to run) and draws the control
characters of its value visibly: an edit dialog pre-filled with someone else's text
never writes an escape sequence to the terminal.

Textual's ``Input`` measures its value as written to place the cursor, scroll and map
a click to a character; a control character is zero cells wide there (a tab four) but
its picture is one. So the measuring follows the drawn characters too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from textual.widgets import Input

from .safe_text import clean_text, visible

if TYPE_CHECKING:
    from textual import getters
    from textual.app import App


class TextInput(Input):
    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    @property
    def _value(self) -> Text:
        # One visible character for each control character: the cursor and selection still line up.
        return clean_text(super()._value)

    def _drawn(self) -> str:
        """The characters drawn for the value, one for each of its characters."""
        return "•" * len(self.value) if self.password else visible(self.value)

    def _position_to_cell(self, position: int) -> int:
        """The cell where character ``position`` is drawn (the cursor, the scrolling)."""
        return cell_len(self._drawn()[:position])

    def _cell_offset_to_index(self, offset: int) -> int:
        """The character drawn at cell ``offset`` of the box (a click)."""
        offset += self.scroll_offset.x
        cells = 0
        for index, char in enumerate(self._drawn()):
            width = get_character_cell_size(char)
            if cells <= offset < cells + width:
                return index
            cells += width
        return len(self.value) if offset >= cells else 0

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            self.cursor_blink = False
