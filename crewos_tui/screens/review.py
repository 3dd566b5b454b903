"""The review screen: clear a review queue fast, by keyboard, at 80x24, over SSH.

A queue table (mark, state, age, project, kind, title, submitter) and a preview of
the highlighted item. One key per decision: ``a`` approve, ``r`` reject (reason
prompt with quick reasons), ``q`` quarantine (reason), ``p`` release from
quarantine. A decision waits ``GRACE_SECONDS`` before it is sent, so ``u`` can take
it back; leaving the screen, quitting or a signal sends it at once (``review_held.py``).
Meanwhile the next item is already shown — showing it needs no backend
call, because the list's page carries everything the preview shows first. The
transcript and the decision history load afterwards, once the cursor rests.

``space`` marks items; ``A``/``R`` decide every marked item in one all-or-nothing
batch after a confirmation that names the count (above ``TYPE_TO_CONFIRM_ABOVE``
items the count must be typed), and show a receipt to save as markdown and JSON.
``v`` validates the item, ``V`` opens its validation log, ``g`` opens the
capability-gap findings, ``d`` saves the attachments. ``f`` cycles the state shown,
``s`` the order, ``m`` "asked of me", ``/`` filters by title.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from ..widgets.line_views import LinePane, ListColumn, QueueList
from ..widgets.review_preview import age, preview
from ..widgets.safe_text import safe
from ..widgets.text_input import TextInput
from ..widgets.workers import work
from .base import BackendScreen, reload_binding
from .review_actions import ReviewActions

if TYPE_CHECKING:
    from ..backend.schemas import (
        ReviewItem,
        ReviewStats,
        ReviewTranscript,
        ValidationResult,
    )

PAGE = 100
MAX_RELOAD = 200  # a reload refetches what was loaded, up to this many rows
FILTER_DELAY = 0.15  # s: wait for a pause in typing before asking the backend
DETAIL_DELAY = 0.15  # s: holding ↓ (or deciding fast) must not fetch every transcript
STATS_EVERY = 1.0  # s: the stats line refreshes at most this often while decisions flow
VIEWS = ("pending", "quarantined", "open", "approved", "rejected", "all")
ORDERS = ("oldest", "priority", "newest")
SHORT_STATE = {"pending": "pend", "approved": "appr", "rejected": "rej", "quarantined": "quar"}
PENDING_LABEL = {"approve": "»appr", "reject": "»rej", "quarantine": "»quar", "release": "»pend"}
DONE_STYLE = {"approved": "green", "rejected": "red", "quarantined": "yellow", "pending": ""}


def now() -> datetime:
    """The time ages are measured against (snapshot tests pin it)."""
    return datetime.now(UTC)


def _str(value: Any) -> str:
    return str(getattr(value, "value", value))


class ReviewScreen(ReviewActions, BackendScreen):
    MODE = "review"
    CSS_PATH = "../styles/review.tcss"
    AUTO_FOCUS = "#review-table"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding("a", "decide('approve')", "Approve", id="review.approve"),
        Binding("r", "decide('reject')", "Reject", tooltip="Reject (asks for a reason)", id="review.reject"),
        Binding("q", "decide('quarantine')", "Quar", tooltip="Quarantine (asks for a reason)",
                id="review.quarantine"),
        Binding("u", "undo", "Undo", tooltip="Undo the last decision not sent yet", id="review.undo"),
        Binding("space", "mark", "Mark", tooltip="Mark or unmark the item (then A/R)", id="review.mark"),
        Binding("A", "decide_marked('approve')", "Appr all", tooltip="Approve all marked items (asks first)",
                id="review.approve_marked"),
        Binding("R", "decide_marked('reject')", "Rej all", tooltip="Reject all marked items (asks first)",
                id="review.reject_marked"),
        Binding("v", "validate", "Validate", show=False, tooltip="Validate the item's output", id="review.validate"),
        Binding("g", "gaps", "Gaps", show=False, tooltip="Capability-gap findings", id="review.gaps"),
        Binding("V", "validations", "Validation log", show=False,
                tooltip="The item's validation runs and their findings", id="review.validations"),
        Binding("p", "decide('release')", "Release", show=False, tooltip="Release from quarantine to pending",
                id="review.release"),
        Binding("d", "download", "Save files", show=False, tooltip="Save the item's attachments",
                id="review.download"),
        Binding("M", "mark_all", "Mark all", show=False, tooltip="Mark every loaded undecided item (again: clear)",
                id="review.mark_all"),
        Binding("slash", "focus_filter", "Filter", show=False, tooltip="Filter by title", id="review.filter"),
        Binding("f", "cycle_view", "State", show=False, tooltip="Show pending/quarantined/open/decided/all",
                id="review.view"),
        Binding("s", "cycle_order", "Order", show=False, tooltip="Order: oldest, priority, newest",
                id="review.order"),
        Binding("m", "toggle_mine", "Asked of me", show=False, tooltip="Only items I was asked to review",
                id="review.mine"),
        Binding("right_square_bracket", "scroll_preview(1)", "Preview down", show=False,
                id="review.preview_down"),
        Binding("left_square_bracket", "scroll_preview(-1)", "Preview up", show=False, id="review.preview_up"),
        reload_binding("review"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = "pending"
        self.order = "oldest"
        self.mine = False
        self.filter_text = ""
        self.stats: ReviewStats | None = None
        self.items: dict[str, ReviewItem] = {}  # every loaded item by id
        self.decided: dict[str, str] = {}  # item id -> state after a decision was sent
        self.marked: set[str] = set()
        self.details: dict[str, ReviewItem] = {}  # with history
        # The item a notification opened: listed (first) while it is the one selected, even
        # when the view leaves it out (a decided item), so a reload does not take it away.
        self.linked: str | None = None
        self.transcripts: dict[str, ReviewTranscript] = {}
        self.validations: dict[str, ValidationResult] = {}
        self.shown_id: str | None = None  # the item the preview shows
        self._detail_timer: Any = None
        self._stats_timer: Any = None

    def on_mount(self) -> None:
        super().on_mount()
        self.listen_to_held()
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        # Popped or pruned: what waits in its undo window is sent now, by the app's store.
        self.stop_listening()
        self.flush_pending()

    def _tick(self) -> None:
        if self.pending:
            self.show_header()

    # ---- layout --------------------------------------------------------------------

    def _columns(self) -> list[ListColumn[ReviewItem]]:
        return [
            ListColumn("mark", " ", self.mark_cell, width=1),
            ListColumn("state", "State", self.state_cell, width=5),
            ListColumn("age", "Age", lambda i: age(i.created_at, now()), width=4),
            ListColumn("project", "Project", lambda i: i.project_name or "—", width=12),
            ListColumn("kind", "Kind", lambda i: i.kind, width=10),
            ListColumn("title", "Title", self.title_cell),
            ListColumn("by", "By", lambda i: i.submitter or "system", width=8),
        ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="review-header"):
            yield Static(Text("Loading the queue…", style="dim"), id="review-stats")
            yield TextInput(placeholder="/ filter titles", id="review-filter", compact=True)
        with Horizontal(id="review-body"):
            with Vertical(id="review-list-pane"):
                yield QueueList(self._columns(), lambda i: i.id, empty="The queue is clear. f shows other states.",
                                id="review-table")
            yield LinePane(id="review-preview")

    @property
    def table(self) -> QueueList[ReviewItem]:
        return cast("QueueList[ReviewItem]", self.query_one("#review-table", QueueList))

    @property
    def preview_pane(self) -> LinePane:
        return self.query_one("#review-preview", LinePane)

    # ---- cells ---------------------------------------------------------------------

    def mark_cell(self, item: ReviewItem) -> Text:
        return Text("●", style="bold") if item.id in self.marked else Text(" ")

    def state_cell(self, item: ReviewItem) -> Text:
        pending = self.pending.get(item.id)
        if pending is not None:
            return Text(PENDING_LABEL[pending.action], style="bold reverse")
        if item.id in self.decided:
            state = self.decided[item.id]
            return Text(("✓" if state == "approved" else "·") + SHORT_STATE[state], style=DONE_STYLE[state])
        state = _str(item.state)
        return Text(SHORT_STATE.get(state, state), style="yellow" if state == "quarantined" else "")

    def title_cell(self, item: ReviewItem) -> Text:
        priority = _str(item.priority)
        style = "bold" if priority in ("urgent", "high") else ""
        prefix = "!! " if priority == "urgent" else ("! " if priority == "high" else "")
        done = item.id in self.decided or item.id in self.pending
        return Text(prefix + item.title, style="dim" if done else style, overflow="ellipsis", no_wrap=True)

    def refresh_row(self, item_id: str) -> None:
        self.table.refresh_item(item_id)

    # ---- the header ----------------------------------------------------------------

    def show_header(self) -> None:
        """The stats line; while a decision waits to be sent it says what ``u`` would undo.
        Fixed size, so updating it never costs a layout pass."""
        s = self.stats
        parts: list[Any] = []
        if self.pending:
            parts.append(self.undo_text())
        elif s is not None:
            oldest = age(s.oldest_pending_at, now()) if s.oldest_pending_at else "—"
            quarantined = s.by_state.get("quarantined", 0)
            parts += [(f"{s.pending} pending", "bold"),
                      f" · oldest {oldest} · {quarantined} quar · {s.my_decisions_today} mine today"]
            view = self.view + (" · asked of me" if self.mine else "")
            parts.append((f"  [{view} · {self.order}]", "dim"))
        else:
            parts.append(("…", "dim"))
        if self.marked:
            parts.append((f" {len(self.marked)} marked", "bold"))
        self.query_one("#review-stats", Static).update(safe(Text.assemble(*parts, no_wrap=True, overflow="ellipsis")),
                                                       layout=False)

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.load_queue()
        self.load_stats()

    def _query(self, limit: int, cursor: str | None = None) -> Any:
        return self.backend.review.list(limit=limit, cursor=cursor, state=None if self.view == "all" else self.view,
                                        order=self.order, q=self.filter_text or None, requested_of_me=self.mine)

    @work(exclusive=True, group="review-queue", exit_on_error=False)
    async def load_queue(self, delay: float = 0) -> None:
        if delay:
            await asyncio.sleep(delay)
        table = self.table
        limit = min(MAX_RELOAD, max(PAGE, len(self.items)))
        table.fetching = True
        try:
            page = await self._query(limit)
        finally:
            table.fetching = False
        # Sent decisions drop out of a view that no longer shows them; a decision
        # still in its undo window keeps its row.
        listed = {x.id for x in page.items}
        keep = [self.items[i] for i in self.pending if i in self.items and i not in listed]
        current = self.current
        if self.linked is not None and (current is None or current.id != self.linked):
            self.linked = None  # the user moved on
        pinned = [self.items[self.linked]] if (
            self.linked in self.items and self.linked not in listed and self.linked not in self.pending) else []
        self.decided = {k: v for k, v in self.decided.items() if k in listed}
        self.items = {i.id: i for i in [*pinned, *page.items, *keep]}
        self.marked &= set(self.items)
        table.reset([*pinned, *page.items, *keep], page.next_cursor)
        self.show_current()
        self.show_header()

    @work(exclusive=True, group="review-more", exit_on_error=False)
    async def load_more(self) -> None:
        table = self.table
        generation, cursor = table.generation, table.next_cursor
        if cursor is None:
            return
        table.fetching = True
        try:
            page = await self._query(PAGE, cursor)
        finally:
            table.fetching = False
        if generation == table.generation:
            self.items.update({i.id: i for i in page.items})
            table.extend(page.items, page.next_cursor)
            current = self.current
            if current is not None and (current.id in self.pending or current.id in self.decided):
                self.advance_from(current.id)  # decided the last loaded item: go on to the new page

    @work(exclusive=True, group="review-stats", exit_on_error=False)
    async def load_stats(self) -> None:
        self.stats = await self.backend.review.stats()
        self.show_header()

    def stats_soon(self) -> None:
        """Refresh the counts, at most once per ``STATS_EVERY`` seconds: a reviewer
        deciding fast must not pay for a stats query per keypress."""
        if self._stats_timer is None:
            self._stats_timer = self.set_timer(STATS_EVERY, self._stats_due)

    def _stats_due(self) -> None:
        self._stats_timer = None
        self.load_stats()

    def on_data_changed(self, project_ids: frozenset[str | None]) -> None:
        # Live update (local mode). While decisions wait in their undo window or are
        # being sent, only the counts refresh: the rows stay where the reviewer is.
        if self.crewos.backend is None or not self.is_current:
            return
        self.stats_soon()
        if not self.pending and not self.sending:
            self.load_queue()

    # ---- the highlighted item --------------------------------------------------------

    @property
    def current(self) -> ReviewItem | None:
        return self.table.selected

    def _preview_of(self, item: ReviewItem) -> tuple[Any, tuple[Any, ...]]:
        """The preview of ``item`` and a key that changes whenever what it shows does."""
        pending = self.pending.get(item.id)
        action = pending.action if pending else None
        transcript, detail = self.transcripts.get(item.id), self.details.get(item.id)
        validation = self.validations.get(item.id)
        key = (item.id, action, self.decided.get(item.id), _str(item.state), transcript is not None,
               detail.updated_at if detail else None, validation.id if validation else None,
               age(item.created_at, now()))
        return preview(item, now(), pending_action=action, transcript=transcript, detail=detail,
                       validation=validation), key

    def show_current(self, *, keep_scroll: bool = False) -> None:
        """Show the highlighted item from what is loaded (no backend call); fetch the
        transcript and history once the cursor rests; render the next item ahead."""
        item = self.current
        self.shown_id = item.id if item else None
        if item is None:
            self.preview_pane.show(preview(None, now()))
            return
        renderable, key = self._preview_of(item)
        self.preview_pane.show(renderable, key, keep_scroll=keep_scroll)
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if item.id not in self.details:
            self._detail_timer = self.set_timer(DETAIL_DELAY, lambda: self.load_detail(item.id))
        self.call_after_refresh(self._prerender_next, item.id)

    def _prerender_next(self, item_id: str) -> None:
        ids = self.open_ids()
        later = ids[ids.index(item_id) + 1:] if item_id in ids else ids[:1]
        if later and later[0] in self.items:
            renderable, key = self._preview_of(self.items[later[0]])
            self.preview_pane.prerender(renderable, key)

    @work(exclusive=True, group="review-detail", exit_on_error=False)
    async def load_detail(self, item_id: str) -> None:
        item = self.items.get(item_id)
        if item is None:
            return
        if item.transcript_messages:
            detail, transcript = await asyncio.gather(self.backend.review.get(item_id),
                                                      self.backend.review.transcript(item_id))
            self.transcripts[item_id] = transcript
        else:
            detail = await self.backend.review.get(item_id)
        self.details[item_id] = detail
        if self.shown_id == item_id:
            self.show_current(keep_scroll=True)

    # ---- navigation and events ---------------------------------------------------------

    @on(QueueList.Highlighted, "#review-table")
    def _highlighted(self) -> None:
        if self.current is None or self.current.id != self.shown_id:
            self.show_current()

    @on(QueueList.NeedMore)
    def _need_more(self, event: QueueList.NeedMore) -> None:
        event.stop()
        self.load_more()

    @on(Input.Changed, "#review-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.load_queue(delay=FILTER_DELAY)

    @on(Input.Submitted, "#review-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def key_escape(self) -> None:
        if self.focused is not None and self.focused.id == "review-filter":
            self.table.focus()

    def row_ids(self) -> list[str]:
        """Item ids in the order the list shows them."""
        return self.table.row_ids()

    def open_ids(self) -> list[str]:
        return [i for i in self.row_ids() if i not in self.decided and i not in self.pending]

    def select(self, item_id: str) -> bool:
        return self.table.select_key(item_id)

    def advance_from(self, item_id: str) -> None:
        """Move to the next item still waiting (below first, then above)."""
        ids = self.row_ids()
        if item_id not in ids:
            return
        start = ids.index(item_id)
        waiting = [i for i in ids if i not in self.decided and i not in self.pending]
        after = [i for i in ids[start + 1:] if i in waiting]
        before = [i for i in ids[:start] if i in waiting]
        target = (after or before[::-1] or [item_id])[0]
        self.select(target)
        if target != self.shown_id:
            self.show_current()
        if not after and self.table.next_cursor and not self.table.fetching:
            self.load_more()

    def open_link(self, link: Any) -> None:
        """Show the review item a notification points to."""
        self.run_worker(self._open_item(link.resource_id), group="review-open", exclusive=True, exit_on_error=False)

    async def _open_item(self, item_id: str) -> None:
        item = await self.backend.review.get(item_id)
        if item_id not in self.items:
            self.items[item_id] = item
            self.table.reset([item, *self.table.items], self.table.next_cursor)
        self.details[item_id] = item
        self.linked = item_id
        self.select(item_id)
        self.show_current()

    # ---- view actions ----------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#review-filter", Input).focus()

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.show_header()
        self.load_queue()

    def action_cycle_order(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        self.show_header()
        self.load_queue()

    def action_toggle_mine(self) -> None:
        self.mine = not self.mine
        self.show_header()
        self.load_queue()

    def action_scroll_preview(self, step: int) -> None:
        self.preview_pane.scroll_page(step)

    def action_gaps(self) -> None:
        from .gaps import GapsScreen

        self.app.push_screen(GapsScreen())

    def action_validations(self) -> None:
        from .validations import ValidationsScreen

        item = self.current
        self.app.push_screen(ValidationsScreen(item.id if item else None, item.title if item else ""))


__all__ = ["ReviewScreen", "now"]
