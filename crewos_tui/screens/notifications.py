"""The notifications screen: the user's notifications, newest first, with a preview.

``enter`` opens what a notification links to (and marks it read), ``r`` reads,
``d`` dismisses, ``R`` reads all (after a confirmation, and only up to the newest
one shown, so one that arrives meanwhile stays unread), ``u`` switches between
unread and all, ``k`` picks a kind, ``p`` edits the preferences. The list follows
new notifications live: local mode through the service layer's events, remote
mode through the unread badge's polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Select, Static

from ..widgets.confirm import ConfirmModal
from ..widgets.format import utc
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import literal, safe
from ..widgets.workers import work
from .base import BackendScreen, reload_binding

if TYPE_CHECKING:
    from ..backend.schemas import Notification, Page

PAGE = 50

#: Resource type -> the mode whose screen shows it. A screen that can show a linked
#: resource implements ``open_link(link)``; a slice adds its resource types here.
LINK_MODES: dict[str, str] = {
    "project": "projects",
    "project_member": "projects",
    "access_request": "projects",
    "folder_update": "projects",
    "document": "projects",
    "task": "tasks",
    "agent_job": "tasks",  # the board's jobs panel lists a project's jobs
    "review_item": "review",
    "token_request": "ledger",
    "token_transaction": "ledger",
    "chat_session": "sessions",
    "session": "sessions",
    "message": "chat",
}
SHOW = [("All", "all"), ("Unread", "unread")]


def kind_label(kind: str) -> str:
    """``project.access_requested`` → ``access requested``: short enough for 80 columns."""
    return kind.split(".", 1)[-1].replace("_", " ")


def _marker(n: Notification) -> Text:
    return Text("●", style="bold") if n.unread else Text("")


#: The title takes what the other columns leave (``fill``); the kind keeps its whole label.
NOTIFICATION_COLUMNS: list[Column[Notification]] = [
    Column("unread", "", _marker, lambda n: n.unread, width=1),
    Column("when", "When (UTC)", lambda n: utc(n.created_at), lambda n: n.id),
    Column("title", "Title", lambda n: Text(n.title, style="bold" if n.unread else "", overflow="ellipsis"),
           lambda n: n.title.casefold()),
    Column("kind", "Kind", lambda n: kind_label(n.kind), lambda n: n.kind),
]


def preview_text(n: Notification | None) -> Text:
    if n is None:
        return Text("Select a notification.", style="dim italic")
    state = "unread" if n.unread else f"read {utc(n.read_at)} UTC"
    meta = f"{kind_label(n.kind)} · from {n.actor or 'the system'} · {utc(n.created_at)} UTC · {state}"
    where = f"→ {n.link.resource_type.replace('_', ' ')}" + (" (enter opens it)" if n.link.resource_type in LINK_MODES
                                                             else "")
    return Text.assemble((n.title, "bold"), "\n", (meta, "dim"), "\n", n.body or "", "\n", (where, "dim italic"))


class NotificationsScreen(BackendScreen):
    MODE = "notifications"
    CSS_PATH = "../styles/notifications.tcss"
    AUTO_FOCUS = "#notification-table"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("enter", "open_link", "Open", tooltip="Open what it links to", id="notifications.open"),
        Binding("r", "read", "Read", tooltip="Mark read", id="notifications.read"),
        Binding("d", "dismiss", "Dismiss", id="notifications.dismiss"),
        Binding("R", "read_all", "Read all", tooltip="Mark all read (asks first)", id="notifications.read_all"),
        Binding("u", "toggle_unread", "Unread/all", show=False, tooltip="Show unread only / all",
                id="notifications.unread"),
        Binding("k", "focus_kind", "Kind", show=False, tooltip="Filter by kind", id="notifications.kind"),
        Binding("p", "preferences", "Prefs", tooltip="Notification preferences", id="notifications.preferences"),
        reload_binding("notifications"),
    ]
    NEEDS_SELECTION = frozenset({"open_link", "read", "dismiss"})

    def __init__(self) -> None:
        super().__init__()
        self.unread_only = False
        self.kind: str | None = None
        self._kinds_loaded = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="notification-filters"):
            yield Label("Show", classes="filter-label")
            yield Select(SHOW, value="all", allow_blank=False, compact=True, id="show-filter")
            yield Label("Kind", classes="filter-label")
            yield Select([("All kinds", "")], value="", allow_blank=False, compact=True, id="kind-filter")
        with Horizontal(id="notifications-body"):
            yield PagedTable(NOTIFICATION_COLUMNS, lambda n: n.id, empty="No notifications here.",
                             id="notification-table", fill="title")
            with Vertical(id="notification-preview-pane"):
                yield Static(safe(preview_text(None)), id="notification-preview")

    def on_mount(self) -> None:
        super().on_mount()
        watcher = getattr(self.crewos, "unread_watcher", None)
        if watcher is not None:  # remote mode has no data_changed: follow the badge's polls
            watcher.changed.subscribe(self, self._unread_changed)

    # ---- lookups -------------------------------------------------------------------

    @property
    def table(self) -> PagedTable[Notification]:
        return cast("PagedTable[Notification]", self.query_one("#notification-table", PagedTable))

    @property
    def selected(self) -> Notification | None:
        return self.table.selected

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and action in self.NEEDS_SELECTION and self.selected is None:
            return None  # shown, dimmed: nothing selected
        return allowed

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.load_notifications()
        if not self._kinds_loaded:
            self.load_kinds()

    def _list(self, cursor: str | None = None) -> Any:
        return self.backend.notifications.list(limit=PAGE, cursor=cursor, unread=True if self.unread_only else None,
                                               kind=self.kind)

    @work(exclusive=True, group="notifications", exit_on_error=False)
    async def load_notifications(self) -> None:
        table = self.table
        table.fetching = True
        try:
            page: Page[Notification] = await self._list()
        finally:
            table.fetching = False
        table.reset(page.items, page.next_cursor)
        self._show_selected()

    @work(exclusive=True, group="notification-kinds", exit_on_error=False)
    async def load_kinds(self) -> None:
        prefs = await self.backend.notifications.get_preferences()
        select = cast("Select[str]", self.query_one("#kind-filter", Select))
        with self.prevent(Select.Changed):
            select.set_options([("All kinds", ""), *((literal(kind_label(k.kind)), k.kind) for k in prefs.kinds)])
            select.value = self.kind or ""
        self._kinds_loaded = True

    @work(exclusive=True, group="notifications-more", exit_on_error=False)
    async def load_more(self) -> None:
        table = self.table
        generation, cursor = table.generation, table.next_cursor
        table.fetching = True
        try:
            page = await self._list(cursor)
        finally:
            table.fetching = False
        if generation == table.generation:
            table.extend(page.items, page.next_cursor)

    def _show_selected(self) -> None:
        self.query_one("#notification-preview", Static).update(safe(preview_text(self.selected)))
        self.refresh_bindings()

    def _unread_changed(self, _count: Any) -> None:
        if self.crewos.backend is not None and self.crewos.backend.mode != "local" and self.is_current:
            self.load_notifications()

    # ---- events --------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#notification-table")
    def _highlighted(self) -> None:
        self._show_selected()

    @on(DataTable.RowSelected, "#notification-table")
    def _selected(self) -> None:
        self.action_open_link()

    @on(PagedTable.NeedMore)
    def _need_more(self) -> None:
        self.load_more()

    @on(Select.Changed, "#show-filter")
    def _show_changed(self, event: Select.Changed) -> None:
        self.unread_only = event.value == "unread"
        self.load_notifications()

    @on(Select.Changed, "#kind-filter")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.kind = str(event.value) or None
        self.load_notifications()
        self.table.focus()

    # ---- actions -------------------------------------------------------------------

    def _selected_or_warn(self) -> Notification | None:
        n = self.selected
        if n is None:
            self.crewos.say("Select a notification first.", severity="warning")
        return n

    def _after_write(self) -> None:
        self.load_notifications()
        watcher = getattr(self.crewos, "unread_watcher", None)
        if watcher is not None:
            watcher.check()

    def action_read(self) -> None:
        n = self._selected_or_warn()
        if n is None:
            return
        if not n.unread:
            self.crewos.say("Already read.")
            return
        self.run_write(lambda: self.backend.notifications.mark_read(n.id), "Marked read.")

    async def action_dismiss(self, result: None = None) -> None:
        n = self._selected_or_warn()
        if n is not None:
            self.run_write(lambda: self.backend.notifications.dismiss(n.id), "Dismissed.")

    def action_read_all(self) -> None:
        loaded = self.table.items
        if not loaded:
            self.crewos.say("Nothing to mark read.")
            return
        newest = max(n.id for n in loaded)

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_write(lambda: self.backend.notifications.read_all(up_to_id=newest),
                               lambda r: f"Marked {r.marked} read.")

        self.app.push_screen(ConfirmModal(
            "Mark all read?",
            "Every unread notification up to the newest one listed here is marked read, of every kind. "
            "One that arrives meanwhile stays unread.", yes="Mark all read"), answered)

    def action_open_link(self) -> None:
        n = self._selected_or_warn()
        if n is not None:
            self.open_link(n)

    def action_toggle_unread(self) -> None:
        self.query_one("#show-filter", Select).value = "all" if self.unread_only else "unread"

    def action_focus_kind(self) -> None:
        self.query_one("#kind-filter", Select).focus()

    def forget_cached(self) -> None:
        self._kinds_loaded = False

    def action_preferences(self) -> None:
        self.edit_preferences()

    # ---- workers for the actions ------------------------------------------------------

    @work(group="notification-write", exit_on_error=False)
    async def run_write(self, call: Callable[[], Awaitable[Any]], done: Callable[[Any], str] | str) -> None:
        result = await call()
        self.crewos.say(done(result) if callable(done) else done)
        self._after_write()

    @work(exclusive=True, group="notification-open", exit_on_error=False)
    async def open_link(self, n: Notification) -> None:
        """Mark ``n`` read and show what it links to on the screen that shows such things."""
        from .registry import MODES

        if n.unread:
            await self.backend.notifications.mark_read(n.id)
            self._after_write()
        mode = LINK_MODES.get(n.link.resource_type)
        if mode is None or mode not in {m.name for m in MODES}:
            self.crewos.say(f"No screen shows a {n.link.resource_type.replace('_', ' ')} yet.", severity="warning")
            return
        await self.app.switch_mode(mode)
        screen = self.app.screen
        opener = getattr(screen, "open_link", None)
        if callable(opener):
            screen.call_after_refresh(opener, n.link)

    @work(exclusive=True, group="notification-prefs", exit_on_error=False)
    async def edit_preferences(self) -> None:
        from ..widgets.notification_prefs import PreferencesModal

        prefs, projects = await asyncio.gather(self.backend.notifications.get_preferences(),
                                               self.backend.projects.list(limit=200))
        choices = [(p.name, p.id) for p in projects.items]

        async def save(update: dict[str, Any]) -> Any:
            from ..backend.schemas import NotificationPreferencesUpdate

            return await self.backend.notifications.update_preferences(NotificationPreferencesUpdate(**update))

        def saved(result: Any) -> None:
            if result is not None:
                self.crewos.say("Notification preferences saved.")

        self.app.push_screen(PreferencesModal(prefs, choices, save), saved)
