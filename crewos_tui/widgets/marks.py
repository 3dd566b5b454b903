"""On/off you can read without colour.

Textual's ``Checkbox`` and ``SelectionList`` draw the same ``X`` for on and off and let
the colour tell them apart, so on a 16-colour or NO_COLOR terminal (or in a screen
reader, or a copied screen) every box looks ticked. These draw ``✓`` for on and ``✗``
for off, in the same one cell, with Textual's colours kept on top.
"""

from __future__ import annotations

from typing import TypeVar

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList

V = TypeVar("V")

ON, OFF = "✓", "✗"


def mark(value: bool) -> str:
    return ON if value else OFF


class MarkedCheckbox(Checkbox):
    def render(self) -> Content:
        self.BUTTON_INNER = mark(self.value)  # read by ToggleButton's button for this draw
        return super().render()


class MarkedSelectionList(SelectionList[V]):
    """A ``SelectionList`` whose boxes show ``✓`` / ``✗``."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        # SelectionList puts [left side, inner, right side, " ", *prompt] before each option.
        if len(segments) < 4 or segments[1].text != Checkbox.BUTTON_INNER:
            return line
        index = self.scroll_offset.y + y
        if index >= self.option_count:
            return line
        selected = self.get_option_at_index(index).value in self._selected
        _, style, control = segments[1]
        segments[1] = Segment(mark(selected), style, control)
        return Strip(segments, line.cell_length)
