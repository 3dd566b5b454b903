"""One board column: a titled, paged list of task cards.

Each column is an ``OptionList`` (it draws only the lines on screen, so a column
with thousands of loaded cards scrolls as cheaply as one with ten). The column
keeps the ``Task`` models it shows and its ``next_cursor``; when the highlight
gets near the last loaded card it asks its screen for the next page (``NeedMore``),
so fetching stays with the screen's workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from .safe_text import safe, visible

if TYPE_CHECKING:
    from ..backend.schemas.tasks import Task

#: Column status -> header label (short: five columns share 80 terminal columns).
LABELS = {"todo": "To do", "in_progress": "In progress", "review": "Review", "blocked": "Blocked",
          "done": "Done", "failed": "Failed", "cancelled": "Cancelled"}
PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "medium": "", "low": "dim"}
PRIORITY_MARK = {"urgent": "!!", "high": "!", "medium": "", "low": "↓"}
NEAR_END = 5  # cards before the end at which the next page is fetched


def _value(v: Any) -> str:
    return str(getattr(v, "value", v) or "")


def split_title(title: str, width: int) -> tuple[str, str]:
    """The title's first line (cut at a space, to fit ``width`` cells) and the rest.

    The rest goes on a second line that the list cuts with an ellipsis: titles get two
    lines, never more, so every card keeps a predictable height.
    """
    if width <= 0 or cell_len(title) <= width:
        return title, ""
    cut = 0
    for i, ch in enumerate(title):
        if cell_len(title[: i + 1]) > width:
            break
        if ch == " ":
            cut = i
    if cut == 0:  # one long word: break it where the line ends
        cut = len(title)
        while cut and cell_len(title[:cut]) > width:
            cut -= 1
        return title[:cut], title[cut:]
    return title[:cut], title[cut + 1:].lstrip()


def card_text(task: Task, width: int = 0) -> Content:
    """Title (two lines at ``width``); assignee and priority; dependencies (built as Content: cheap)."""
    priority = _value(task.priority)
    mark = (PRIORITY_MARK[priority] + " " + priority).strip()
    who = ("@" + visible(task.assignee), "") if task.assignee else ("unassigned", "dim italic")
    deps: list[str] = []
    if task.blocked_by_count:
        deps.append(f"blocked by {task.blocked_by_count}")
    if task.blocks_count:
        deps.append(f"blocks {task.blocks_count}")
    if _value(task.status) in ("blocked", "failed", "cancelled") and task.status_reason:
        deps.append(visible(task.status_reason))
    # Content shows text literally; visible() keeps controls (and line breaks) out of the card.
    first, rest = split_title(visible(task.title), width)
    title: list[Any] = [(first, "bold"), "\n", (rest, "bold"), "\n"] if rest else [(first, "bold"), "\n"]
    return Content.assemble(*title, who, "  ",
                            (mark, PRIORITY_STYLE.get(priority, "")), "\n",
                            (" · ".join(deps), "red" if task.blocked_by_count else "dim"))


def _with_dividers(tasks: Sequence[Task], width: int = 0) -> list[Option | None]:
    """Cards with a rule under each (``None`` draws a divider below the option before it)."""
    out: list[Option | None] = []
    for t in tasks:
        out += [Option(card_text(t, width), id=t.id), None]
    return out


class KanbanColumn(Vertical):
    """A header and the cards of one status."""

    SCOPED_CSS = False
    DEFAULT_CSS = """
    KanbanColumn { width: 1fr; height: 100%; border-right: vkey $panel; }
    KanbanColumn:last-of-type { border-right: none; }
    /* z folds an empty column to a strip with its name and count. */
    KanbanColumn.-folded { width: auto; min-width: 5; max-width: 14; }
    KanbanColumn.-folded .column-header { width: auto; }
    KanbanColumn.-folded OptionList { display: none; }
    KanbanColumn .column-header { height: 1; padding: 0 1; background: $boost; }
    KanbanColumn:focus-within .column-header { background: $accent 30%; }
    KanbanColumn OptionList {
        height: 1fr; max-height: 100%; background: $surface;
        text-wrap: nowrap; text-overflow: ellipsis;  /* split_title gives titles two lines; the rest is cut */
        scrollbar-size-vertical: 1;
    }
    KanbanColumn OptionList:focus { background-tint: $foreground 3%; }
    /* Default CSS of OptionList outranks a containing widget's default CSS, so these
       component rules are marked important. */
    KanbanColumn OptionList > .option-list--option { padding: 0 1 !important; }
    /* Only the focused column shows a strong cursor; the others mark theirs quietly. */
    KanbanColumn OptionList > .option-list--option-highlighted {
        background: $boost !important; color: $foreground !important; text-style: none !important;
    }
    KanbanColumn OptionList:focus > .option-list--option-highlighted {
        background: $block-cursor-background !important; color: $block-cursor-foreground !important;
    }
    """

    class NeedMore(Message):
        def __init__(self, column: KanbanColumn) -> None:
            super().__init__()
            self.column = column

    class CardHighlighted(Message):
        def __init__(self, column: KanbanColumn, task: Task | None) -> None:
            super().__init__()
            self.column = column
            self.task = task

    class CardChosen(Message):
        """Enter on a card."""

        def __init__(self, column: KanbanColumn, task: Task) -> None:
            super().__init__()
            self.column = column
            self.task = task

    def __init__(self, status: str) -> None:
        super().__init__(id=f"column-{status}", classes="kanban-column")
        self.status = status
        self.tasks: list[Task] = []
        self.next_cursor: str | None = None
        self.fetching = False
        self.generation = 0  # bumped on reset: a late page of an older list is dropped
        self.loaded_once = False
        self.wrap_width = 0  # the title width the cards were built for (0: not laid out yet)

    def compose(self) -> ComposeResult:
        yield Static(LABELS.get(self.status, self.status), classes="column-header")
        yield OptionList(id=f"cards-{self.status}", classes="cards", compact=True)

    @property
    def cards(self) -> OptionList:
        return self.query_one(OptionList)

    @property
    def selected(self) -> Task | None:
        index = self.cards.highlighted
        return self.tasks[index] if index is not None and 0 <= index < len(self.tasks) else None

    def index_of(self, task_id: str) -> int | None:
        return next((i for i, t in enumerate(self.tasks) if t.id == task_id), None)

    # ---- content ---------------------------------------------------------------------

    def _update_header(self) -> None:
        count = f"{len(self.tasks)}+" if self.next_cursor else str(len(self.tasks))
        self.query_one(".column-header", Static).update(safe(
            Text.assemble((LABELS.get(self.status, self.status), "bold"), (f" {count}", "dim"))))

    def reset(self, tasks: Sequence[Task], next_cursor: str | None, keep: str | None = None) -> None:
        """Show ``tasks`` (a first page); the highlight stays on ``keep`` or the same card."""
        keep = keep or (self.selected.id if self.selected else None)
        old_index = self.cards.highlighted
        self.generation += 1
        self.loaded_once = True
        self.tasks, self.next_cursor = list(tasks), next_cursor
        cards = self.cards
        cards.set_options(_with_dividers(self.tasks, self.wrap_width))
        self._update_header()
        if not self.tasks:
            cards.set_options([Option(Text("—", style="dim"), id="__empty__", disabled=True)])
            return
        index = self.index_of(keep) if keep else None
        if index is None and old_index is not None:
            index = min(old_index, len(self.tasks) - 1)
        cards.highlighted = index if index is not None else 0

    def extend(self, tasks: Sequence[Task], next_cursor: str | None) -> None:
        known = {t.id for t in self.tasks}
        new = [t for t in tasks if t.id not in known]
        self.tasks.extend(new)
        self.next_cursor = next_cursor
        self.cards.add_options(_with_dividers(new, self.wrap_width))
        self._update_header()

    @property
    def empty(self) -> bool:
        """Loaded and holding no cards (the column a fold hides)."""
        return self.loaded_once and not self.tasks and not self.next_cursor

    def set_folded(self, folded: bool) -> None:
        self.set_class(folded, "-folded")

    def on_resize(self) -> None:
        # Titles wrap at the card's width: rebuild the cards when that width changes.
        width = max(0, self.cards.scrollable_content_region.width - 2)  # less the cards' padding
        if width and width != self.wrap_width:
            self.wrap_width = width
            if self.tasks:
                keep = self.selected.id if self.selected else None
                index = self.cards.highlighted
                self.cards.set_options(_with_dividers(self.tasks, width))
                target = self.index_of(keep) if keep else index
                if target is not None:
                    self.cards.highlighted = target

    def select(self, task_id: str) -> bool:
        index = self.index_of(task_id)
        if index is None:
            return False
        self.cards.highlighted = index
        return True

    def show_message(self, text: str) -> None:
        self.tasks, self.next_cursor = [], None
        self.cards.set_options([Option(Text(text, style="dim italic"), id="__empty__", disabled=True)])
        self.query_one(".column-header", Static).update(Text(LABELS.get(self.status, self.status), style="bold"))

    # ---- events ----------------------------------------------------------------------

    def on_mouse_down(self) -> None:
        # Only the board's current column is in the Tab order; a click makes this one current.
        self.cards.can_focus = True
        self.cards.focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(self.CardHighlighted(self, self.selected))
        index = event.option_index
        if self.next_cursor and not self.fetching and index >= len(self.tasks) - NEAR_END:
            self.post_message(self.NeedMore(self))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        task = self.selected
        if task is not None:
            self.post_message(self.CardChosen(self, task))
