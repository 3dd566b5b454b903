"""The board: a dependency-aware kanban of one project's tasks.

Columns by status (to do, in progress, review, blocked, done; failed and cancelled
behind ``t``). Each column loads page by page, so a 10,000-task project costs what
the visible cards cost. Arrows (or hjkl) move the focus; ``shift+→``/``shift+←``
move the focused card forward or back through the workflow (also ``>``/``<``), and the backend's
state machine decides: a refused move shows its reason. ``enter`` opens the card's
detail. Local mode updates live from domain events; remote mode refreshes on an
interval (``i`` changes it).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, OptionList, Static

from ..widgets.kanban import KanbanColumn
from ..widgets.safe_text import safe
from ..widgets.text_input import TextInput
from ..widgets.workers import work
from .base import BackendScreen, reload_binding
from .board_actions import BoardActions

if TYPE_CHECKING:
    from ..backend.schemas import Project
    from ..backend.schemas.tasks import Task
    from ..widgets.jobs_panel import JobsPanel

PAGE = 20  # cards per column page: two screens' worth at 40 rows
MAX_RELOAD = 200  # a reload refetches what a column had loaded, up to this many cards
FILTER_DELAY = 0.15
COLUMNS = ("todo", "in_progress", "review", "blocked", "done")
HIDDEN = ("failed", "cancelled")
REFRESH_CHOICES = (5, 10, 30, 60, 0)  # seconds; 0 = off (remote mode)


def default_refresh() -> int:
    """Remote refresh interval: CREWOS_TUI_BOARD_REFRESH seconds (0 = off), default 10."""
    try:
        return max(0, int(os.environ.get("CREWOS_TUI_BOARD_REFRESH", "10")))
    except ValueError:
        return 10


def parse_filter(text: str) -> tuple[str | None, str | None]:
    """``"docs @priya"`` → (title words ``docs``, assignee ``priya``)."""
    words: list[str] = []
    who: str | None = None
    for word in text.split():
        if word.startswith("@") and len(word) > 1:
            who = word[1:]
        else:
            words.append(word)
    return (" ".join(words) or None), who


class BoardScreen(BoardActions, BackendScreen):
    MODE = "tasks"
    # DEFAULT_CSS, not CSS_PATH: a screen's CSS file makes Textual re-parse every
    # stylesheet and restyle every widget of the app when the screen first opens
    # (~half the time to the first cards); default CSS is parsed on its own.
    DEFAULT_CSS = """
    BoardScreen {
        #board-bar { height: 1; padding: 0 1; }
        #board-project { width: 28; margin: 0 1 0 0; }
        #board-filter { width: 1fr; margin: 0 1 0 0; }
        #board-info { width: auto; color: $text-muted; }
        &.-narrow #board-project { width: 22; }
        #board-columns { height: 1fr; }
    }
    """
    AUTO_FOCUS = "#cards-todo"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("left,h", "focus_column(-1)", "Column ◀", show=False, id="board.left"),
        Binding("right,l", "focus_column(1)", "Column ▶", show=False, id="board.right"),
        Binding("j", "cursor(1)", "Down", show=False, id="board.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="board.up"),
        Binding("greater_than_sign,shift+right,L", "move(1)", "Move▶",
                tooltip="Move the card forward (to the next column)", id="board.move_next"),
        Binding("less_than_sign,shift+left,H", "move(-1)", "Move◀",
                tooltip="Move the card back (to the previous column)", id="board.move_prev"),
        Binding("n", "new_task", "New", tooltip="New task", id="board.new"),
        Binding("a", "approve", "Approve", tooltip="Approve the review (review → done)", id="board.approve"),
        Binding("w", "rework", "Rework", show=False, tooltip="Request rework (review → in progress, with a reason)",
                id="board.rework"),
        Binding("b", "block", "Block", show=False, tooltip="Block the task (with a reason)", id="board.block"),
        Binding("r", "retry", "Retry", show=False, tooltip="Retry a failed task", id="board.retry"),
        Binding("g", "run_agent", "Agent", tooltip="Run the worker agent on the task (a durable job)",
                id="board.run_agent"),
        Binding("J", "toggle_jobs", "Jobs", tooltip="Show or hide agent jobs", id="board.jobs"),
        Binding("p", "pick_project", "Project", tooltip="Choose the project", id="board.project"),
        Binding("slash", "focus_filter", "Filter", show=False, tooltip="Filter by text, @assignee",
                id="board.filter"),
        Binding("enter", "open_detail", "Open", show=False, tooltip="Open the card's detail", id="board.open"),
        Binding("u", "project_update", "Update", show=False, tooltip="Write a project update (agent job)",
                id="board.project_update"),
        Binding("x", "cancel_job", "Cancel job", show=False, tooltip="Cancel the selected agent job",
                id="board.cancel_job"),
        Binding("t", "toggle_hidden", "Failed/cancelled", show=False, tooltip="Show failed and cancelled columns",
                id="board.toggle_hidden"),
        Binding("z", "toggle_fold", "Fold empty", show=False, tooltip="Fold empty columns to a narrow strip",
                id="board.fold"),
        Binding("i", "cycle_refresh", "Refresh", show=False, tooltip="Change the refresh interval (remote mode)",
                id="board.refresh"),
        reload_binding("board"),
    ]

    def __init__(self) -> None:
        super().__init__()
        # A new mode screen whose CSS-update count lags the app's makes Textual re-parse
        # every stylesheet and restyle every widget of every screen before the first
        # frame (the count moves when the theme is set at start-up). This screen is
        # styled from the current stylesheet as it mounts, so it is not behind: say so.
        app = self.app if self._has_app() else None
        if app is not None:
            self._css_update_count = getattr(app, "_css_update_count", 0)
        self.project: Project | None = None
        self.projects: list[Project] = []
        self.columns: dict[str, KanbanColumn] = {s: KanbanColumn(s) for s in (*COLUMNS, *HIDDEN)}
        self.show_hidden = False
        self.fold_empty = False  # z: empty columns shrink to their name and count
        self.refresh_seconds = default_refresh()
        self._refresh_timer: Any = None
        self._filter = ""
        self._assignees: dict[str, str] = {}  # username (casefolded) -> user id, of the project's members
        self._focus_status = "todo"
        self.first_cards_at: float | None = None
        self.last_refusal: str | None = None  # the reason the last move was refused (tests read it)
        self._pending_select: tuple[str, str] | None = None  # (status, task id) to focus after a load
        self._skip_reload = False
        self._jobs_panel: JobsPanel | None = None
        self._task_titles: dict[str, str] = {}  # for the jobs panel's Task column
        self._binding_state: tuple[Any, ...] = (False,)

    def _has_app(self) -> bool:
        try:
            self.app  # noqa: B018 - raises outside an app context
        except Exception:  # noqa: BLE001
            return False
        return True

    def compose_body(self) -> ComposeResult:
        # Only what the first cards need is built now; the failed/cancelled columns and
        # the jobs panel are mounted the first time they are shown.
        with Horizontal(id="board-bar"):
            yield Static("", id="board-project")
            yield TextInput(placeholder="/ filter: words @assignee", id="board-filter", compact=True)
            yield Static("", id="board-info")
        with Horizontal(id="board-columns"):
            for status in COLUMNS:
                yield self.columns[status]

    # ---- lookups -------------------------------------------------------------------

    @property
    def visible_statuses(self) -> list[str]:
        return [*COLUMNS, *(HIDDEN if self.show_hidden else ())]

    @property
    def focused_column(self) -> KanbanColumn:
        return self.columns[self._focus_status]

    @property
    def selected_task(self) -> Task | None:
        return self.focused_column.selected

    @property
    def jobs(self) -> JobsPanel | None:
        """The jobs panel, once it has been shown."""
        return self._jobs_panel

    async def show_jobs_panel(self) -> None:
        if self._jobs_panel is None:
            from ..widgets.jobs_panel import JobsPanel

            panel = JobsPanel(id="jobs-panel")
            await self.mount(panel, after="#board-columns")
            self._jobs_panel = panel
        self._jobs_panel.display = True
        self.load_jobs()
        self._refresh_bindings_if_changed()

    @property
    def jobs_shown(self) -> bool:
        return self._jobs_panel is not None and self._jobs_panel.display

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Card actions stay enabled (with no card they say so): dimming them as the
        # cursor moves would rebuild the footer on every key, which costs more than
        # the move itself on a big board.
        allowed = super().check_action(action, parameters)
        if allowed and action == "cancel_job" and not self.jobs_shown:
            return None
        return allowed

    # ---- loading -------------------------------------------------------------------

    def on_mount(self) -> None:
        super().on_mount()  # schedules reload() after the first frame...
        self._show_info()
        self._set_focus_stop("todo")
        self.columns["todo"].cards.focus()
        if self.crewos.backend is not None:  # ...but the data can be on its way already
            self._skip_reload = True
            self.load_projects()

    def reload(self) -> None:
        self._arm_refresh()
        if self._skip_reload:
            self._skip_reload = False
            return
        if self.project is None:
            self.load_projects()
        else:
            self.load_columns()
            if self.jobs_shown:
                self.load_jobs()

    @work(exclusive=True, group="board-projects", exit_on_error=False)
    async def load_projects(self, select: str | None = None) -> None:
        page = await self.backend.projects.list(limit=200)
        self.projects = sorted(page.items, key=lambda p: (str(getattr(p.status, "value", p.status)) != "active",
                                                          p.name.casefold()))
        target = select or (self.project.id if self.project else None)
        chosen = next((p for p in self.projects if p.id == target), self.projects[0] if self.projects else None)
        if chosen is None:
            for column in self.columns.values():
                column.show_message("No projects yet.")
            return
        await self._switch_project(chosen)

    async def _switch_project(self, project: Project) -> None:
        self.project = project
        self._assignees = {}
        self._show_info()
        self.load_columns(then_members=True)
        if self.jobs_shown:
            self.load_jobs()

    @work(exclusive=True, group="board-members", exit_on_error=False)
    async def load_members(self) -> None:
        assert self.project is not None
        page = await self.backend.projects.list_members(self.project.id, limit=200)
        self._assignees = {m.username.casefold(): m.user_id for m in page.items}

    def _list(self, status: str, limit: int, cursor: str | None = None) -> Any:
        assert self.project is not None
        words, who = parse_filter(self._filter)
        assignee = None
        if who is not None:
            assignee = self._assignees.get(who.casefold(), f"unknown:{who}")  # unknown → matches nobody
        return self.backend.tasks.list(project_id=self.project.id, status=status, q=words, assignee_id=assignee,
                                       limit=limit, cursor=cursor)

    @work(exclusive=True, group="board-columns", exit_on_error=False)
    async def load_columns(self, keep: dict[str, str] | None = None, then_members: bool = False) -> None:
        """Load the first page of every visible column (as much as each had, on a reload)."""
        if self.project is None:
            return
        statuses = self.visible_statuses
        cols = [self.columns[s] for s in statuses]
        limits = [min(max(PAGE, len(c.tasks)), MAX_RELOAD) for c in cols]
        for c in cols:
            c.fetching = True
        try:
            pages = await asyncio.gather(*(self._list(s, n) for s, n in zip(statuses, limits, strict=True)))
        finally:
            for c in cols:
                c.fetching = False
        for status, column, page in zip(statuses, cols, pages, strict=True):
            column.reset(page.items, page.next_cursor, (keep or {}).get(status))
        self._apply_fold()
        if self._pending_select is not None:
            status, task_id = self._pending_select
            self._pending_select = None
            if status in statuses and self.columns[status].select(task_id):
                self._focus(status)
        if self.first_cards_at is None and any(c.tasks for c in cols):
            self.first_cards_at = time.perf_counter()  # benchmarks/board.py reads it
        if then_members:  # for "@name" in the filter; not needed for the first cards
            self.load_members()

    @work(group="board-more", exit_on_error=False)
    async def load_more(self, column: KanbanColumn) -> None:
        if column.fetching or not column.next_cursor:
            return
        generation, cursor = column.generation, column.next_cursor
        column.fetching = True
        try:
            page = await self._list(column.status, PAGE, cursor)
        finally:
            column.fetching = False
        if generation == column.generation:
            column.extend(page.items, page.next_cursor)

    @work(exclusive=True, group="board-jobs", exit_on_error=False)
    async def load_jobs(self) -> None:
        if self.project is None:
            return
        if self._jobs_panel is None:
            return
        page = await self.backend.agent_jobs.list(project_id=self.project.id, limit=20)
        self._jobs_panel.show_jobs(page.items, await self._job_task_titles(page.items))

    async def _job_task_titles(self, jobs: Any) -> dict[str, str]:
        """Task id → title for the jobs' tasks: from the loaded cards, else asked once each."""
        for column in self.columns.values():
            for task in column.tasks:
                self._task_titles[task.id] = task.title
        missing = list({j.task_id for j in jobs if j.task_id and j.task_id not in self._task_titles})
        if missing:
            found = await asyncio.gather(*(self.backend.tasks.get(t) for t in missing), return_exceptions=True)
            for task_id, task in zip(missing, found, strict=True):
                if isinstance(task, BaseException):
                    if not isinstance(task, Exception):
                        raise task  # cancelled: a newer load took over
                    self._task_titles[task_id] = "(task not visible)"
                else:
                    self._task_titles[task_id] = task.title
        return self._task_titles

    def follow_job(self, job_id: str) -> None:
        """A job just started from the board: the jobs panel's cursor goes to it."""
        if self._jobs_panel is not None:
            self._jobs_panel.follow(job_id)

    # ---- live updates --------------------------------------------------------------

    def on_data_changed(self, project_ids: frozenset[str | None]) -> None:
        if self.crewos.backend is None or not self.is_current or self.project is None:
            return
        if self.project.id in project_ids:
            self.load_columns()
            if self.jobs_shown:
                self.load_jobs()

    def _arm_refresh(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        backend = self.crewos.backend
        if backend is not None and backend.mode != "local" and self.refresh_seconds:
            self._refresh_timer = self.set_interval(self.refresh_seconds, self._tick)
        self._show_info()

    def _tick(self) -> None:
        session = self.crewos.session
        if session is not None and session.health != "online":
            # Offline: no polling into the outage. The status bar's own probe backs off
            # (unread_watch.py); when it finds the server again, connection_back reloads.
            return
        if self.is_current and self.project is not None:
            self.load_columns()
            if self.jobs_shown:
                self.load_jobs()

    def _show_info(self) -> None:
        name = self.project.name if self.project else "(no project)"
        self.query_one("#board-project", Static).update(safe(
            Text.assemble((name, "bold"), (" ▾ p", "dim"), no_wrap=True, overflow="ellipsis")))
        backend = self.crewos.backend
        if backend is not None and backend.mode == "local":
            live = Text("● live", style="green")
        elif self.refresh_seconds:
            live = Text(f"↻ {self.refresh_seconds}s (i)", style="dim")
        else:
            live = Text("↻ off (i)", style="dim")
        hidden = Text("  failed/cancelled: t", style="dim") if not self.show_hidden else Text("")
        self.query_one("#board-info", Static).update(safe(Text.assemble(live, hidden)))

    # ---- focus and navigation ------------------------------------------------------

    def _set_focus_stop(self, status: str) -> None:
        """The board is one stop in the Tab order: only the current column's list can take
        the focus (h/l and the arrows move between columns), so Tab goes on to the jobs panel."""
        for name, column in self.columns.items():
            if column.parent is not None:  # failed/cancelled mount on first show
                column.cards.can_focus = name == status

    def _focus(self, status: str, index: int | None = None) -> None:
        self._focus_status = status
        self._set_focus_stop(status)
        cards = self.columns[status].cards
        if index is not None and self.columns[status].tasks:
            cards.highlighted = max(0, min(index, len(self.columns[status].tasks) - 1))
        cards.focus()
        self._refresh_bindings_if_changed()

    def _open_statuses(self) -> list[str]:
        """The visible columns that are not folded (where the focus can go)."""
        return [s for s in self.visible_statuses if not self.columns[s].has_class("-folded")]

    def action_focus_column(self, step: int) -> None:
        statuses = self._open_statuses() or self.visible_statuses
        if self._focus_status in statuses:
            i = statuses.index(self._focus_status)
            target = statuses[max(0, min(len(statuses) - 1, i + step))]
        else:  # on a column that just folded: the nearest open one that way
            order = self.visible_statuses
            here = order.index(self._focus_status) if self._focus_status in order else 0
            ahead = [s for s in statuses if (order.index(s) > here) == (step > 0)]
            target = (ahead[0] if step > 0 else ahead[-1]) if ahead else statuses[0]
        self._focus(target, self.focused_column.cards.highlighted)

    def _apply_fold(self) -> None:
        for status in self.visible_statuses:
            column = self.columns[status]
            column.set_folded(self.fold_empty and column.empty)
        if self.columns[self._focus_status].has_class("-folded"):
            open_ = self._open_statuses()
            if open_:
                order = self.visible_statuses
                here = order.index(self._focus_status) if self._focus_status in order else 0
                self._focus(min(open_, key=lambda s: abs(order.index(s) - here)))

    def action_toggle_fold(self) -> None:
        self.fold_empty = not self.fold_empty
        self._apply_fold()

    def action_cursor(self, step: int) -> None:
        cards = self.focused_column.cards
        (cards.action_cursor_down if step > 0 else cards.action_cursor_up)()

    def action_focus_filter(self) -> None:
        self.query_one("#board-filter", Input).focus()

    def action_pick_project(self) -> None:
        from ..widgets.project_picker import ProjectPicker

        def chosen(project_id: str | None) -> None:
            project = next((p for p in self.projects if p.id == project_id), None)
            if project is not None and (self.project is None or project.id != self.project.id):
                for column in self.columns.values():
                    column.tasks = []  # a new project starts at its first page
                self.run_worker(self._switch_project(project), exclusive=True, group="board-switch")
                self._focus("todo")

        self.crewos.push_screen(ProjectPicker(self.projects, self.project.id if self.project else None), chosen)

    async def action_toggle_hidden(self) -> None:
        self.show_hidden = not self.show_hidden
        for status in HIDDEN:
            column = self.columns[status]
            if column.parent is None:
                await self.query_one("#board-columns", Horizontal).mount(column)
                column.cards.can_focus = False  # one focus stop for the board
            column.display = self.show_hidden
        if not self.show_hidden and self._focus_status in HIDDEN:
            self._focus("done")
        self._show_info()
        self.load_columns()

    async def action_toggle_jobs(self) -> None:
        if self.jobs_shown and self._jobs_panel is not None:
            self._jobs_panel.display = False
            self._refresh_bindings_if_changed()
        else:
            await self.show_jobs_panel()

    def action_cycle_refresh(self) -> None:
        i = REFRESH_CHOICES.index(self.refresh_seconds) if self.refresh_seconds in REFRESH_CHOICES else -1
        self.refresh_seconds = REFRESH_CHOICES[(i + 1) % len(REFRESH_CHOICES)]
        self._arm_refresh()
        backend = self.crewos.backend
        if backend is not None and backend.mode == "local":
            self.crewos.say("Local mode updates live; the interval applies to remote profiles.")

    def reload_all(self) -> None:
        """The project list too (a project may have appeared or gone), then its columns."""
        self._arm_refresh()
        self.load_projects()

    def open_link(self, link: Any) -> None:
        """From a notification: show the task's (or job's) project, then the task or the jobs."""
        self.show_linked(link)

    @work(exclusive=True, group="board-link", exit_on_error=False)
    async def show_linked(self, link: Any) -> None:
        task = await self.backend.tasks.get(link.resource_id) if link.resource_type == "task" else None
        if task is not None:
            status = str(getattr(task.status, "value", task.status))
            self._pending_select = (status, task.id)  # applied when the columns arrive
            if status in HIDDEN and not self.show_hidden:
                await self.action_toggle_hidden()
        project_id = getattr(link, "project_id", None) or (task.project_id if task else None)
        if project_id and (self.project is None or self.project.id != project_id):
            self.load_projects(select=project_id)
        elif task is not None:
            self.load_columns()
        if link.resource_type == "agent_job":
            await self.show_jobs_panel()
            if self._jobs_panel is not None:
                self._jobs_panel.follow(link.resource_id)  # the cursor goes to the job once it is listed
        if task is not None:
            self.open_detail(task.id)

    # ---- events --------------------------------------------------------------------

    @on(KanbanColumn.NeedMore)
    def _need_more(self, event: KanbanColumn.NeedMore) -> None:
        self.load_more(event.column)

    @on(KanbanColumn.CardHighlighted)
    def _highlighted(self, event: KanbanColumn.CardHighlighted) -> None:
        self._refresh_bindings_if_changed()

    def _refresh_bindings_if_changed(self) -> None:
        """Redraw the footer only when what it shows can change (the jobs panel's keys)."""
        state = (self.jobs_shown,)
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    @on(KanbanColumn.CardChosen)
    def _chosen(self, event: KanbanColumn.CardChosen) -> None:
        self.open_detail(event.task.id)

    def on_descendant_focus(self, event: Any) -> None:
        widget = event.widget
        if isinstance(widget, OptionList) and widget.id and widget.id.startswith("cards-"):
            self._focus_status = widget.id.removeprefix("cards-")
            self._set_focus_stop(self._focus_status)
            self._refresh_bindings_if_changed()

    @on(Input.Changed, "#board-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._filter_later()

    @work(exclusive=True, group="board-filter", exit_on_error=False)
    async def _filter_later(self) -> None:
        await asyncio.sleep(FILTER_DELAY)
        if parse_filter(self._filter)[1] and not self._assignees and self.project is not None:
            page = await self.backend.projects.list_members(self.project.id, limit=200)
            self._assignees = {m.username.casefold(): m.user_id for m in page.items}
        for column in self.columns.values():
            column.tasks = []
        self.load_columns()

    @on(Input.Submitted, "#board-filter")
    def _filter_done(self) -> None:
        self._focus(self._focus_status)

    def key_escape(self) -> None:
        if self.focused is not None and self.focused.id == "board-filter":
            self._focus(self._focus_status)
