"""The admin screen: users, LLM routing and budgets with usage charts, the answer cache
and the job queue, the audit log (filter, detail, CSV export, integrity check), and
the pipeline policy with per-agent prompt standards.

Only admins get the tabs; anyone else sees why the screen is empty (the backend
refuses every admin call anyway). Each tab loads when it is shown, in its own
exclusive worker; the writes live in ``admin_actions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    DataTable,
    ProgressBar,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
)

from ..widgets.admin_text import (
    budget_text,
    cache_text,
    event_detail,
    filter_text,
    policy_text,
    queue_text,
    routes_text,
    usage_breakdown,
    usage_title,
    user_state,
)
from ..widgets.format import one_line, utc
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import safe
from ..widgets.workers import work
from .admin_actions import AdminActions
from .base import BackendScreen, reload_binding

if TYPE_CHECKING:
    from ..backend.schemas import AdminUser, AuditEvent, PromptStandard

PAGE = 50
USAGE_DAYS = 14
TABS = ("users", "llm", "cache", "audit", "policy")


def _v(value: object) -> str:
    return str(getattr(value, "value", value) or "")


USER_COLUMNS: list[Column[AdminUser]] = [
    Column("user", "User", lambda u: u.username, lambda u: u.username.casefold()),
    Column("role", "Role", lambda u: _v(u.role), lambda u: _v(u.role)),
    Column("team", "Team", lambda u: u.team, lambda u: u.team),
    Column("state", "State", user_state, lambda u: (u.disabled, u.locked_until is not None, u.failed_logins)),
    Column("grants", "Namespaces", lambda u: one_line(", ".join(u.namespace_grants), 30)),
]
EVENT_COLUMNS: list[Column[AuditEvent]] = [
    Column("seq", "#", lambda e: Text(str(e.seq), justify="right"), lambda e: e.seq),
    Column("when", "When (UTC)", lambda e: utc(e.created_at), lambda e: e.created_at),
    Column("actor", "Actor", lambda e: e.actor, lambda e: e.actor),
    Column("action", "Action", lambda e: e.action, lambda e: e.action),
    Column("resource", "Resource", lambda e: f"{e.resource_type} {e.resource_id[-6:]}"),
]
STANDARD_COLUMNS: list[Column[PromptStandard]] = [
    Column("agent", "Agent", lambda s: s.agent, lambda s: s.agent),
    Column("sections", "Required sections", lambda s: one_line(", ".join(s.required_sections), 34)),
    Column("terms", "Forbidden", lambda s: one_line(", ".join(s.forbidden_terms), 24)),
    Column("prompt", "System prompt", lambda s: one_line(s.system_prompt, 40)),
]


class AdminScreen(AdminActions, BackendScreen):
    MODE = "admin"
    CSS_PATH = "../styles/admin.tcss"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-short"), (32, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit_user", "Edit", tooltip="Edit the user (role, team, disabled, namespaces)",
                id="admin.edit_user"),
        Binding("u", "unlock_user", "Unlock", tooltip="End the user's sign-in throttle and reset their failed sign-ins",
                id="admin.unlock"),
        Binding("r", "edit_route", "Route", tooltip="Set an agent's model route", id="admin.route"),
        Binding("b", "edit_budget", "Budgets", tooltip="Edit daily token budgets", id="admin.budget"),
        Binding("c", "toggle_cache", "Cache on/off", tooltip="Switch the answer cache on or off", id="admin.cache"),
        Binding("i", "invalidate_cache", "Invalidate", tooltip="Invalidate cached answers", id="admin.invalidate"),
        Binding("f", "filter_audit", "Filter", tooltip="Filter the audit log", id="admin.filter"),
        Binding("v", "verify_audit", "Verify", tooltip="Check the audit chain's integrity", id="admin.verify"),
        Binding("x", "export_audit", "Export", tooltip="Export the (filtered) audit log as CSV", id="admin.export"),
        Binding("p", "edit_policy", "Policy", tooltip="Edit the pipeline policy", id="admin.policy"),
        Binding("s", "edit_standard", "Standard", tooltip="Edit the agent's prompt standard", id="admin.standard"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="admin.next_tab"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="admin.prev_tab"),
        reload_binding("admin"),
    ]
    VIEW_ACTIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "edit_user": ("users",), "unlock_user": ("users",),
        "edit_route": ("llm",), "edit_budget": ("llm",), "toggle_cache": ("llm", "cache"),
        "invalidate_cache": ("cache",),
        "filter_audit": ("audit",), "verify_audit": ("audit",), "export_audit": ("audit",),
        "edit_policy": ("policy",), "edit_standard": ("policy",),
    }

    def __init__(self) -> None:
        super().__init__()
        self.audit_filter: dict[str, str] = {"actor": "", "action": "", "resource_id": "", "since": "", "until": ""}
        self.is_admin: bool | None = None  # None until the session says who we are

    def compose_body(self) -> ComposeResult:
        yield Static("", id="admin-notice")
        with TabbedContent(id="admin-tabs", initial="tab-users"):
            with TabPane("Users", id="tab-users"):
                yield PagedTable(USER_COLUMNS, lambda u: u.id, empty="No users.", id="users-table")
            with TabPane("LLM & budgets", id="tab-llm"), VerticalScroll(id="llm-pane"):
                yield Static("", id="llm-routes")
                yield Static("", id="llm-budget")
                yield Static("", id="usage-title")
                yield Sparkline([], summary_function=max, id="usage-chart")
                yield Static("", id="usage-breakdown")
            with TabPane("Cache & queue", id="tab-cache"), VerticalScroll(id="cache-pane"):
                yield Static("", id="cache-stats")
                yield Static("", id="queue-stats")
            with TabPane("Audit", id="tab-audit"):
                yield Static(safe(filter_text(self.audit_filter)), id="audit-filter")
                yield Static("", id="audit-integrity")
                yield ProgressBar(total=100, show_eta=False, id="export-progress")
                with Horizontal(id="audit-body"):
                    yield PagedTable(EVENT_COLUMNS, lambda e: str(e.seq), empty="No audit events match.",
                                     id="audit-table")
                    yield Static("", id="audit-detail")
            with TabPane("Policy", id="tab-policy"), Vertical(id="policy-pane"):
                yield Static("", id="policy-text")
                yield PagedTable(STANDARD_COLUMNS, lambda s: s.agent, empty="No agents.", id="standards-table")

    # ---- lookups -------------------------------------------------------------------

    def table(self, name: str) -> PagedTable[Any]:
        return cast("PagedTable[Any]", self.query_one(f"#{name}-table", PagedTable))

    def current_view(self) -> str | None:
        tabs = self.query("#admin-tabs")
        if not tabs:
            return None
        active = tabs.first(TabbedContent).active
        return active.removeprefix("tab-") if active else None

    def show_view(self, view: str) -> None:
        self.query_one("#admin-tabs", TabbedContent).active = f"tab-{view}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.VIEW_ACTIONS and not self.is_admin:
            return False  # nothing to administer without the role
        return super().check_action(action, parameters)

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        session = self.crewos.session
        role = session.role if session else None
        if session is None or role is None:
            return  # not connected yet: backend_ready brings us back
        self.is_admin = role == "admin"
        self.set_class(not self.is_admin, "-refused")
        notice = self.query_one("#admin-notice", Static)
        if not self.is_admin:
            notice.update(safe(Text.assemble(
                ("The admin screen is for admins. ", "bold"),
                f"You are signed in as {session.username} ({role}). User accounts, model routing and token "
                "budgets, the answer cache, the job queue, the audit log and the pipeline policy need the admin "
                "role; an admin can grant it (Admin → Users → e).",
            )))
            self.refresh_bindings()
            return
        notice.update("")
        self.refresh_bindings()
        self.load_view(self.current_view() or "users")

    def load_view(self, view: str) -> None:
        loaders = {"users": self.load_users, "llm": self.load_llm, "cache": self.load_cache,
                   "audit": self.load_audit, "policy": self.load_policy}
        loaders[view]()

    @work(exclusive=True, group="admin-users", exit_on_error=False)
    async def load_users(self) -> None:
        table = self.table("users")
        page = await self.backend.admin.list_users(limit=PAGE)
        table.reset(page.items, page.next_cursor)

    @work(exclusive=True, group="admin-llm", exit_on_error=False)
    async def load_llm(self) -> None:
        admin = self.backend.admin
        cfg = await admin.get_llm_config()
        budget = await admin.get_token_budget()
        usage = await admin.llm_usage_summary(days=USAGE_DAYS)
        note = ""
        if not usage.runs and usage.last_usage_day is not None and usage.last_usage_day < usage.since:
            # Nothing lately: show the last days that had use rather than a flat line.
            usage = await admin.llm_usage_summary(days=USAGE_DAYS, until=usage.last_usage_day)
            note = "no use since; the last days with use"
        self.query_one("#llm-routes", Static).update(safe(routes_text(cfg)))
        self.query_one("#llm-budget", Static).update(safe(budget_text(budget)))
        self.query_one("#usage-title", Static).update(safe(usage_title(usage, note)))
        self.query_one("#usage-chart", Sparkline).data = [b.tokens_in + b.tokens_out for b in usage.by_day]
        self.query_one("#usage-breakdown", Static).update(safe(usage_breakdown(usage)))

    @work(exclusive=True, group="admin-cache", exit_on_error=False)
    async def load_cache(self) -> None:
        stats = await self.backend.admin.cache_stats()
        queue = await self.backend.admin.queue_stats()
        self.query_one("#cache-stats", Static).update(safe(cache_text(stats)))
        self.query_one("#queue-stats", Static).update(safe(queue_text(queue)))

    def audit_query(self) -> dict[str, Any]:
        from datetime import datetime

        out: dict[str, Any] = {k: v for k, v in self.audit_filter.items() if v and k not in ("since", "until")}
        for key in ("since", "until"):
            if self.audit_filter.get(key):
                out[key] = datetime.fromisoformat(self.audit_filter[key])
        return out

    @work(exclusive=True, group="admin-audit", exit_on_error=False)
    async def load_audit(self) -> None:
        table = self.table("audit")
        self.query_one("#audit-filter", Static).update(safe(filter_text(self.audit_filter)))
        page = await self.backend.admin.list_audit_events(limit=PAGE, **self.audit_query())
        table.reset(page.items, page.next_cursor)
        self._show_event()

    @work(exclusive=True, group="admin-policy", exit_on_error=False)
    async def load_policy(self) -> None:
        policy = await self.backend.admin.get_pipeline_policy()
        page = await self.backend.admin.list_prompt_standards(limit=PAGE)
        self.query_one("#policy-text", Static).update(safe(policy_text(policy)))
        self.table("standards").reset(page.items, page.next_cursor)

    @work(exclusive=True, group="admin-more", exit_on_error=False)
    async def load_more(self, table: PagedTable[Any]) -> None:
        generation, cursor = table.generation, table.next_cursor
        admin = self.backend.admin
        table.fetching = True
        try:
            if table.id == "users-table":
                page = await admin.list_users(limit=PAGE, cursor=cursor)
            elif table.id == "audit-table":
                page = await admin.list_audit_events(limit=PAGE, cursor=cursor, **self.audit_query())
            else:
                page = await admin.list_prompt_standards(limit=PAGE, cursor=cursor)
        finally:
            table.fetching = False
        if generation == table.generation:
            table.extend(page.items, page.next_cursor)

    def _show_event(self) -> None:
        event = self.table("audit").selected
        self.query_one("#audit-detail", Static).update(safe(event_detail(event) if event else ""))

    # ---- events --------------------------------------------------------------------

    @on(TabbedContent.TabActivated, "#admin-tabs")
    def _tab_changed(self) -> None:
        self.refresh_bindings()
        if self.is_admin:
            self.load_view(self.current_view() or "users")

    @on(DataTable.RowHighlighted, "#audit-table")
    def _event_highlighted(self) -> None:
        self._show_event()

    @on(PagedTable.NeedMore)
    def _need_more(self, event: PagedTable.NeedMore) -> None:
        self.load_more(event.table)

    # ---- view actions --------------------------------------------------------------

    def action_tab(self, step: int) -> None:
        from ..widgets.tab_focus import focus_active_pane

        view = self.current_view() or "users"
        self.show_view(TABS[(TABS.index(view) + step) % len(TABS)])
        focus_active_pane(self.query_one("#admin-tabs", TabbedContent))  # arrows move the new tab's list


__all__ = ["AdminScreen"]
