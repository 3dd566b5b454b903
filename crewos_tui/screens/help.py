"""The ``?`` overlay: every key of the current screen and of the app, with the
binding id a user can remap in the config file's ``[keymap]`` table.

The id column is never cut (it is what a user copies into the config): the action
column takes the width that is left and wraps. The note under the table shows the
remap line for the binding under the cursor. PgUp/PgDn page, Home/End jump."""

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
    config_keys: str = ""  # as config.toml writes them: "ctrl+r", not "^r"


class HelpSection(NamedTuple):
    title: str
    lines: Sequence[KeyLine]


#: Borders and padding of the box, the table's cell padding (1 each side of 3 columns)
#: and its vertical scrollbar: what the action column cannot use.
_CHROME = 2 + 2 + 6 + 2
_BOX_WIDTH = 90  # #help-box in app.tcss


def remap_hint(line: KeyLine | None) -> str:
    """The ``[keymap]`` line that rebinds ``line`` (an example for a line with no id)."""
    if line is None or not line.binding_id:
        return 'Remap keys in config.toml, table [keymap]: "<binding id>" = "<key>"'
    return f'Remap in config.toml, table [keymap]: "{line.binding_id}" = "{line.config_keys or line.keys}"'


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
        # Over the table's own home/end, which scroll sideways.
        Binding("home", "jump(True)", "Top", show=False, priority=True, id="help.top"),
        Binding("end", "jump(False)", "Bottom", show=False, priority=True, id="help.bottom"),
    ]

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__(id="help")
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-box"):
            yield Label("Keys", classes="dialog-title")
            yield DataTable(cursor_type="row", zebra_stripes=False, id="help-table")
            yield Static(remap_hint(None), id="help-hint", classes="dialog-note", markup=False)

    @property
    def table(self) -> DataTable[Any]:
        return cast("DataTable[Any]", self.query_one("#help-table", DataTable))

    def on_mount(self) -> None:
        lines = [line for section in self._sections for line in section.lines]
        key_width = max((len(line.keys) for line in lines), default=3)
        id_width = max((len(line.binding_id) for line in lines), default=10)
        box = min(_BOX_WIDTH, self.size.width or _BOX_WIDTH)  # the screen: the whole terminal
        action_width = max(12, box - _CHROME - key_width - id_width)
        table = self.table
        table.add_column("Key", width=max(key_width, 3))
        table.add_column("Action", width=action_width)
        table.add_column("Binding id", width=max(id_width, 10))
        self._lines: dict[Any, KeyLine] = {}
        for section in self._sections:
            table.add_row(Text(section.title, style="bold"), "", "")
            for line in section.lines:
                key = table.add_row(Text(line.keys, style="bold"), Text(line.description),
                                    Text(line.binding_id, style="dim"), height=None)
                self._lines[key] = line
        table.focus()
        if self._lines:
            table.move_cursor(row=1)  # the first key, under its section's title

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.query_one("#help-hint", Static).update(remap_hint(self._lines.get(event.row_key)))

    def action_jump(self, top: bool) -> None:
        table = self.table
        table.move_cursor(row=0 if top else table.row_count - 1)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def config_keys(app: Any, binding: Binding) -> str:
    """The binding's keys after the user's keymap, spelled as ``[keymap]`` takes them."""
    return str(app.spec.keymap.get(binding.id or "", binding.key))


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
            lines.append(KeyLine(app.key_of(b), (b.tooltip or b.description) + note, b.id or "", config_keys(app, b)))
        title = next((m.title for m in MODES if m.name == screen.MODE), "This screen")
        sections.append(HelpSection(title, lines))
    everywhere = [KeyLine(app.key_of(b), b.description, b.id or "", config_keys(app, b))
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
