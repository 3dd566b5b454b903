"""The projects screen: a filterable, sortable project list and a detail pane, with
every project action on one key.

Reads run in exclusive workers (a newer request supersedes an older one: typing in
the filter, moving the cursor); writes run in workers too and reload what they
changed. Backend errors become notifications (forms show them inline).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.lazy import Lazy
from textual.widgets import DataTable, Input, TabbedContent

from ..widgets.format import error_text, utc
from ..widgets.paged_table import Column, PagedTable, reveal
from ..widgets.project_detail import TABS, ProjectDetail
from ..widgets.text_input import TextInput
from ..widgets.workers import work
from .base import BackendScreen, reload_binding
from .project_actions import ProjectActions

if TYPE_CHECKING:
    from ..backend.schemas import Page, Project

PAGE = 50
FILTER_DELAY = 0.15  # s: wait for a pause in typing before asking the backend
DETAIL_DELAY = 0.05  # s: holding ↓ over the list must not fetch every project


def _pending(p: Project) -> int:
    return p.pending_access_requests + p.pending_folder_updates


def _status(p: Project) -> Text:
    status = str(getattr(p.status, "value", p.status))
    return Text(status, style="dim italic" if status == "archived" else "")


PROJECT_COLUMNS: list[Column[Project]] = [
    Column("name", "Name", lambda p: p.name, lambda p: p.name.casefold()),
    Column("status", "Status", _status, lambda p: str(p.status)),
    Column("role", "Role", lambda p: str(getattr(p.my_role, "value", p.my_role) or "admin"),
           lambda p: str(p.my_role or "")),
    Column("members", "Mbr", lambda p: str(p.member_count), lambda p: p.member_count),
    Column("docs", "Doc", lambda p: str(p.document_count), lambda p: p.document_count),
    Column("pending", "Pend", lambda p: str(_pending(p)) if _pending(p) else "", _pending),
    Column("updated", "Updated (UTC)", lambda p: utc(p.updated_at), lambda p: p.updated_at),
]


class ProjectsScreen(ProjectActions, BackendScreen):
    MODE = "projects"
    # Side by side only when both halves get enough room; stacked otherwise (80x24).
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (150, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-short"), (32, "-tall")]

    BINDINGS = [
        # Footer words stay short (80 columns); the tooltip is the longer text that
        # help and the command palette show.
        Binding("n", "create_project", "New", tooltip="New project", id="projects.create"),
        Binding("e", "edit_project", "Edit", tooltip="Edit project", id="projects.edit"),
        Binding("x", "archive_project", "Archive", tooltip="Archive project", id="projects.archive"),
        Binding("m", "add_member", "Add member", id="projects.add_member"),
        Binding("c", "change_role", "Role", tooltip="Change member role", id="projects.change_role"),
        Binding("d", "remove_member", "Remove", tooltip="Remove member", id="projects.remove_member"),
        Binding("a", "approve", "Approve", id="projects.approve"),
        Binding("r", "reject", "Reject", id="projects.reject"),
        Binding("u", "upload", "Upload", tooltip="Upload document", id="projects.upload"),
        Binding("i", "reingest", "Reingest", tooltip="Reingest document", id="projects.reingest"),
        Binding("slash", "focus_filter", "Filter", show=False, tooltip="Filter projects", id="projects.filter"),
        Binding("s", "sort", "Sort", show=False, id="projects.sort"),
        Binding("S", "sort_reverse", "Reverse sort", show=False, id="projects.sort_reverse"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="projects.next_tab"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="projects.prev_tab"),
        reload_binding("projects"),
    ]
    VIEW_ACTIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "add_member": ("members",),
        "change_role": ("members",),
        "remove_member": ("members",),
        "approve": ("requests", "updates"),
        "reject": ("requests", "updates"),
        "upload": ("documents",),
        "reingest": ("documents",),
    }
    NEEDS_PROJECT = frozenset({"edit_project", "archive_project", *VIEW_ACTIONS})

    def __init__(self) -> None:
        super().__init__()
        self.project: Project | None = None  # the one the detail pane shows
        self._filter = ""
        self._wanted_row: tuple[str, str] | None = None  # (detail tab, row key) a notification asked for

    def compose_body(self) -> ComposeResult:
        # Lazy: mounted right after the first frame (status bar), so the first paint
        # does not wait for seven tables, tabs and an input; data arrives later still.
        with Horizontal(id="projects-body"):
            yield Lazy(Vertical(
                TextInput(placeholder="/ filter projects by name", id="project-filter", compact=True),
                PagedTable(PROJECT_COLUMNS, lambda p: p.id, empty="No projects. Press n to create one.",
                           id="project-table", autofocus=True),
                id="list-pane",
            ))
            yield Lazy(ProjectDetail(id="project-detail"))

    # ---- lookups -------------------------------------------------------------------

    @property
    def project_table(self) -> PagedTable[Project]:
        return cast("PagedTable[Project]", self.query_one("#project-table", PagedTable))

    @property
    def detail(self) -> ProjectDetail:
        return self.query_one(ProjectDetail)

    def current_view(self) -> str | None:
        details = self.query(ProjectDetail)
        return details.first().active_tab if details else None

    def show_view(self, view: str) -> None:
        self.detail.activate(view)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and action in self.NEEDS_PROJECT:
            if self.project is None:
                return None  # shown, dimmed: select a project first
            if str(getattr(self.project.status, "value", self.project.status)) == "archived":
                return None  # read-only; the backend would refuse
        return allowed

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        if not self.query("#project-table") or not self.query(ProjectDetail):
            self.call_after_refresh(self.reload)  # the lazy panes mount right after the first frame
            return
        self.load_projects()
        if self.project is not None:
            self.load_detail(self.project.id, delay=0)

    @work(exclusive=True, group="projects", exit_on_error=False)
    async def load_projects(self, delay: float = 0) -> None:
        if delay:
            await asyncio.sleep(delay)
        table = self.project_table
        table.fetching = True
        try:
            page = await self.backend.projects.list(limit=PAGE, q=self._filter or None)
        finally:
            table.fetching = False
        table.reset(page.items, page.next_cursor)
        if not page.items:
            self._show(None)
        elif self.project is None or not table.select_key(self.project.id):
            self._show_selected()

    @work(exclusive=True, group="more", exit_on_error=False)
    async def load_more(self, table: PagedTable[Any]) -> None:
        generation, cursor = table.generation, table.next_cursor
        table.fetching = True
        try:
            page = await self._fetch(table, cursor)
        finally:
            table.fetching = False
        if generation == table.generation:  # not reset meanwhile
            table.extend(page.items, page.next_cursor)

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load_detail(self, project_id: str, delay: float = DETAIL_DELAY) -> None:
        if delay:
            await asyncio.sleep(delay)
        project = await self.backend.projects.get(project_id)
        self.project = project
        self.detail.show_project(project)
        self.refresh_bindings()
        tables = list(self.detail.tables.items())
        pages = await asyncio.gather(*(self._fetch(t, None) for _, t in tables), return_exceptions=True)
        reported = False
        for (name, table), page in zip(tables, pages, strict=True):
            if isinstance(page, BaseException):
                if not isinstance(page, Exception):
                    raise page  # cancelled: a newer selection took over
                # One list the caller may not read must not hide the others.
                table.show_placeholder(f"⚠ {error_text(page)}")
                if not reported and self._is_connection_error(page):
                    reported = True
                    self.crewos.report_error(page)
                continue
            table.reset(page.items, page.next_cursor)
            if name in ("folders", "scaffold"):
                self.detail.set_count(name, len(page.items) if not page.next_cursor else None)
        if self._wanted_row is not None:
            tab, key = self._wanted_row
            self._wanted_row = None
            table = self.detail.tables[tab]
            # Listed while pending; a decided request or update is not, and the tab shows the project's open ones.
            await reveal(table, key, lambda c: self._fetch(table, c))

    @staticmethod
    def _is_connection_error(exc: BaseException) -> bool:
        from ..backend.errors import Unauthorized, Unavailable

        return isinstance(exc, Unavailable | Unauthorized)

    def _fetch(self, table: PagedTable[Any], cursor: str | None) -> Any:
        """The backend call that lists ``table``'s rows (one page from ``cursor``)."""
        p = self.backend.projects
        if table.id == "project-table":
            return p.list(limit=PAGE, cursor=cursor, q=self._filter or None)
        assert self.project is not None
        pid = self.project.id
        calls = {
            "members-table": lambda: p.list_members(pid, limit=PAGE, cursor=cursor),
            "documents-table": lambda: p.list_documents(pid, limit=PAGE, cursor=cursor),
            "folders-table": lambda: p.list_folders(pid, limit=PAGE, cursor=cursor),
            "scaffold-table": lambda: p.list_scaffold_items(pid, limit=PAGE, cursor=cursor),
            "requests-table": lambda: p.list_access_requests(pid, limit=PAGE, cursor=cursor, status="pending"),
            "updates-table": lambda: p.list_folder_updates(pid, limit=PAGE, cursor=cursor, status="pending"),
        }
        return calls[table.id or ""]()

    def _show_selected(self) -> None:
        selected = self.project_table.selected
        if selected is None:
            self._show(None)
        elif self.project is None or selected.id != self.project.id:
            self.project = selected  # the list's copy until the fresh one arrives
            self.detail.show_project(selected)
            self.load_detail(selected.id)

    def _show(self, project: Project | None) -> None:
        self.project = project
        self.detail.show_project(project)
        if project is None:
            for table in self.detail.tables.values():
                table.show_placeholder("No project selected.")
        self.refresh_bindings()

    async def reload_after_change(self, project_id: str | None = None) -> None:
        """After a write: refresh the list and the detail (selecting ``project_id``)."""
        page: Page[Project] = await self.backend.projects.list(limit=PAGE, q=self._filter or None)
        table = self.project_table
        table.reset(page.items, page.next_cursor)
        target = project_id or (self.project.id if self.project else None)
        if target and await reveal(table, target, lambda c: self._fetch(table, c)):
            self.load_detail(target, delay=0)
        else:
            self._show_selected()

    # ---- events --------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#project-table")
    def _project_highlighted(self) -> None:
        if self.project_table.items:  # not the "Loading…" placeholder row
            self._show_selected()

    @on(PagedTable.NeedMore)
    def _need_more(self, event: PagedTable.NeedMore) -> None:
        self.load_more(event.table)

    @on(Input.Changed, "#project-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self.load_projects(delay=FILTER_DELAY)

    @on(Input.Submitted, "#project-filter")
    def _filter_done(self) -> None:
        self.project_table.focus()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def key_escape(self) -> None:
        if self.focused is not None and self.focused.id == "project-filter":
            self.project_table.focus()

    # ---- view actions --------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#project-filter", Input).focus()

    def action_sort(self) -> None:
        self._sortable_table().cycle_sort()

    def action_sort_reverse(self) -> None:
        table = self._sortable_table()
        table.sort_by(table.sort_column or table.sortable_columns()[0], not table.sort_reverse)

    def _sortable_table(self) -> PagedTable[Any]:
        focused = self.focused
        return cast("PagedTable[Any]", focused) if isinstance(focused, PagedTable) else self.project_table

    def action_tab(self, step: int) -> None:
        from ..widgets.tab_focus import focus_active_pane

        self.detail.cycle_tab(step)
        focus_active_pane(self.detail.query_one(TabbedContent))  # arrows move the new tab's list

    # ---- links (a notification's "open") ---------------------------------------------

    #: The detail tab that shows a linked resource of this type.
    LINK_TABS: ClassVar[dict[str, str]] = {"project_member": "members", "access_request": "requests",
                                           "folder_update": "updates", "document": "documents"}

    def open_link(self, link: Any) -> None:
        """Show the project a link points into, on the tab of its resource."""
        tab = self.LINK_TABS.get(link.resource_type)
        if tab:
            self.detail.activate(tab)
        self._wanted_row = (tab, link.resource_id) if tab else None
        if link.project_id:
            self.run_worker(self._open_project(link.project_id), group="open-link", exclusive=True,
                            exit_on_error=False)

    async def _open_project(self, project_id: str) -> None:
        # Becoming self.project first makes any reload meanwhile (live updates) keep it.
        self.project = await self.backend.projects.get(project_id)
        await self.reload_after_change(project_id)


__all__ = ["TABS", "ProjectsScreen"]
