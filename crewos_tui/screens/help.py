"""The ``?`` overlay: every key of the current screen and of the app, with the
binding id a user can remap in the config file's ``[keymap]`` table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static


class KeyLine(NamedTuple):
    keys: str
    description: str
    binding_id: str = ""


class HelpSection(NamedTuple):
    title: str
    lines: Sequence[KeyLine]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__(id="help")
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-box"):
            yield Label("Keys", classes="dialog-title")
            yield DataTable(cursor_type="row", zebra_stripes=False, id="help-table")
            yield Static('Remap keys in config.toml, table [keymap]: "projects.create" = "ctrl+n"',
                         classes="dialog-note", markup=False)

    def on_mount(self) -> None:
        table = cast("DataTable[Any]", self.query_one(DataTable))
        table.add_columns("Key", "Action", "Binding id")
        for section in self._sections:
            table.add_row(Text(section.title, style="bold"), "", "")
            for line in section.lines:
                table.add_row(Text(line.keys, style="bold"), line.description, Text(line.binding_id, style="dim"))
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def help_sections(app: Any, screen: Any) -> list[HelpSection]:
    """Key lines for ``screen`` (its own bindings, noting the tab an action needs),
    the app's global bindings, and the keys every list understands."""
    from .base import BackendScreen
    from .registry import MODES

    sections: list[HelpSection] = []
    if isinstance(screen, BackendScreen):
        lines: list[KeyLine] = []
        for b in screen.screen_bindings():
            views = screen.VIEW_ACTIONS.get(b.action.split("(")[0])
            note = f" ({', '.join(views)})" if views else ""
            lines.append(KeyLine(app.key_of(b), (b.tooltip or b.description) + note, b.id or ""))
        title = next((m.title for m in MODES if m.name == screen.MODE), "This screen")
        sections.append(HelpSection(title, lines))
    everywhere = [KeyLine(app.key_of(b), b.description, b.id or "")
                  for b in app.BINDINGS if isinstance(b, Binding)]
    everywhere += [KeyLine("^p", "Command palette"), KeyLine("^q", "Quit")]
    sections.append(HelpSection("Everywhere", everywhere))
    sections.append(HelpSection("Lists", [
        KeyLine("↑ ↓ PgUp PgDn", "Move (the end loads more)"),
        KeyLine("tab shift+tab", "Next / previous area"),
        KeyLine("esc", "Leave filter, close dialog"),
        KeyLine("click header", "Sort (again: reverse)"),
    ]))
    return sections
