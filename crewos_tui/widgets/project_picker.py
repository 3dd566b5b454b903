"""A small modal to choose a project: type to narrow, arrows, enter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from .safe_text import literal
from .text_input import TextInput

if TYPE_CHECKING:
    from ..backend.schemas import Project


class ProjectPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="project_picker.cancel")]
    DEFAULT_CSS = """
    ProjectPicker {
        #project-picker-box { width: 60; }
        #project-picker-list { height: auto; max-height: 16; margin: 1 0 0 0; }
    }
    """

    def __init__(self, projects: Sequence[Project], current: str | None) -> None:
        super().__init__(classes="project-picker")
        self._projects = list(projects)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="project-picker-box"):
            yield Label("Choose a project", classes="dialog-title")
            yield TextInput(placeholder="type to filter", compact=True, id="project-picker-filter")
            yield OptionList(id="project-picker-list", compact=True)

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(OptionList).focus()

    def _fill(self, text: str) -> None:
        wanted = text.casefold().strip()
        shown = [p for p in self._projects if wanted in p.name.casefold()]
        options = self.query_one(OptionList)
        options.set_options([Option(literal(p.name + ("  (archived)" if str(getattr(p.status, "value", p.status))
                                                        == "archived" else "")), id=p.id) for p in shown])
        index = next((i for i, p in enumerate(shown) if p.id == self._current), 0)
        if shown:
            options.highlighted = index

    @on(Input.Changed, "#project-picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#project-picker-filter")
    def _submit_filter(self) -> None:
        self.query_one(OptionList).action_select()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event: events.Key) -> None:
        # Typing while the list has focus goes to the filter.
        key = event.character
        box = self.query_one("#project-picker-filter", Input)
        if key and key.isprintable() and not box.has_focus and self.focused is self.query_one(OptionList):
            box.focus()
            box.insert_text_at_cursor(key)
            event.stop()

    def action_cancel(self) -> None:
        self.dismiss(None)
