"""The one way to choose a project: a modal with a fuzzy filter.

Type a few letters of the name (in order, not necessarily together: "atl" finds "Atlas
Launch"), ↑/↓ to move, Enter to take the highlighted one, Esc to cancel. The best
matches come first (``textual.fuzzy``'s scoring); with nothing typed the list keeps the
caller's order with the current project highlighted.

Project names are other people's text: each row is a ``Content`` built from the name with
its control characters made visible, and the matched letters styled by offset. Textual's
``Matcher.highlight`` is not used because it parses the candidate as markup.

Every screen that chooses a project pushes this modal (chat, board, ledger); it dismisses
with the project id, :data:`NO_PROJECT` for the optional "no project" row, or ``None``
when cancelled. Given no projects (the caller's list has not arrived yet: a key pressed
right after the screen opened), it fetches the active projects itself, and what was typed
meanwhile filters them when they come.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import FuzzySearch
from textual.screen import ModalScreen
from textual.style import Style
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..backend.text_safety import visible
from .text_input import TextInput
from .workers import work

if TYPE_CHECKING:
    from ..backend.schemas import Project

#: What the picker returns for its "no project" row (offered when ``none_label`` is given).
NO_PROJECT = ""
_NONE_ID = "\x00none"  # the row's option id: never a project id
MATCH_STYLE = Style(bold=True, underline=True)


def _status(project: Project) -> str:
    return str(getattr(project.status, "value", project.status))


def ranked(query: str, names: Sequence[str]) -> list[tuple[int, Sequence[int]]]:
    """(index, matched offsets) of the names that match ``query``, best first, ties in the given order."""
    query = query.strip()
    if not query:
        return [(i, ()) for i in range(len(names))]
    search = FuzzySearch()
    scored = [(score, i, offsets) for i, name in enumerate(names)
              for score, offsets in [search.match(query, name)] if score > 0]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(i, offsets) for _, i, offsets in scored]


def highlighted(name: str, offsets: Sequence[int]) -> Content:
    """``name`` drawn literally (never markup), the matched letters styled."""
    content = Content(name)
    for offset in offsets:
        if 0 <= offset < len(name) and not name[offset].isspace():
            content = content.stylize(MATCH_STYLE, offset, offset + 1)
    return content


class ProjectPicker(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="project_picker.cancel"),
        Binding("down", "move(1)", "Next", show=False, id="project_picker.next"),
        Binding("up", "move(-1)", "Previous", show=False, id="project_picker.previous"),
        Binding("pagedown", "move(8)", "Page down", show=False, id="project_picker.page_down"),
        Binding("pageup", "move(-8)", "Page up", show=False, id="project_picker.page_up"),
    ]
    DEFAULT_CSS = """
    ProjectPicker {
        #project-picker-box { width: 60; max-width: 100%; height: auto; }
        #project-picker-list { height: auto; max-height: 12; margin: 1 0 0 0; }
        #project-picker-hint { color: $text-muted; margin: 1 0 0 0; }
    }
    """

    def __init__(self, projects: Sequence[Project], current: str | None, *, none_label: str | None = None,
                 title: str = "Choose a project") -> None:
        super().__init__(classes="project-picker")
        self._projects = list(projects)
        self._names = [visible(p.name) for p in self._projects]
        self._current = current
        self._none_label = none_label
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="project-picker-box"):
            yield Label(self._title, classes="dialog-title")
            yield TextInput(placeholder="type a few letters of the name", compact=True, id="project-picker-filter")
            yield OptionList(id="project-picker-list", compact=True)
            yield Static(Content("↑↓ move · enter choose · esc cancel"), id="project-picker-hint")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(TextInput).focus()
        if not self._projects:
            self._load_projects()

    @work(exclusive=True, group="project-picker", exit_on_error=False)
    async def _load_projects(self) -> None:
        app: Any = self.app  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]  # Textual: App[Unknown]
        backend: Any = getattr(app, "backend", None)
        if backend is None:
            return  # not connected yet: the "no project" row (if any) is all there is
        page = await backend.projects.list(limit=200, status="active")
        self._projects = list(page.items)
        self._names = [visible(p.name) for p in self._projects]
        self._fill(self.query_one(TextInput).value)

    @property
    def options(self) -> OptionList:
        return self.query_one("#project-picker-list", OptionList)

    def _fill(self, query: str) -> None:
        rows: list[Option] = []
        if self._none_label is not None and not query.strip():
            rows.append(Option(Content.styled(self._none_label, "italic"), id=_NONE_ID))
        for index, offsets in ranked(query, self._names):
            project = self._projects[index]
            prompt = highlighted(self._names[index], offsets)
            if _status(project) == "archived":
                prompt = prompt + Content.styled("  (archived)", "dim")
            rows.append(Option(prompt, id=project.id))
        options = self.options
        options.set_options(rows)
        if not rows:
            return
        ids = [row.id for row in rows]
        wanted = self._current if not query.strip() else None
        if wanted == NO_PROJECT and self._none_label is not None:
            wanted = _NONE_ID
        options.highlighted = ids.index(wanted) if wanted in ids else 0

    @on(Input.Changed, "#project-picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#project-picker-filter")
    def _submit_filter(self) -> None:
        options = self.options
        if options.highlighted is None:
            return  # nothing matches: keep typing (or esc)
        self._choose(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#project-picker-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(NO_PROJECT if option_id == _NONE_ID else option_id)

    def action_move(self, step: int) -> None:
        options = self.options
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_cancel(self) -> None:
        self.dismiss(None)
