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


def card_text(task: Task) -> Content:
    """Three lines: title; assignee and priority; dependencies (built as Content: cheap)."""
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
    return Content.assemble((visible(task.title), "bold"), "\n", who, "  ",
                            (mark, PRIORITY_STYLE.get(priority, "")), "\n",
                            (" · ".join(deps), "red" if task.blocked_by_count else "dim"))


def _with_dividers(tasks: Sequence[Task]) -> list[Option | None]:
    """Cards with a rule under each (``None`` draws a divider below the option before it)."""
    out: list[Option | None] = []
    for t in tasks:
        out += [Option(card_text(t), id=t.id), None]
    return out


class KanbanColumn(Vertical):
    """A header and the cards of one status."""

    SCOPED_CSS = False
    DEFAULT_CSS = """
    KanbanColumn { width: 1fr; height: 100%; border-right: vkey $panel; }
    KanbanColumn:last-of-type { border-right: none; }
    KanbanColumn .column-header { height: 1; padding: 0 1; background: $boost; }
    KanbanColumn:focus-within .column-header { background: $accent 30%; }
    KanbanColumn OptionList {
        height: 1fr; max-height: 100%; background: $surface;
        text-wrap: nowrap; text-overflow: ellipsis;  /* every card is three lines, whatever the width */
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
        cards.set_options(_with_dividers(self.tasks))
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
        self.cards.add_options(_with_dividers(new))
        self._update_header()

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
