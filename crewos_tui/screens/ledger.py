"""The ledger screen: one project's token ledger.

A header with supply and holders, two step charts drawn with text (supply over
time, and the selected wallet's balance), and four tabs: token change requests
(filtered by state, with an impact preview of the highlighted one), wallets,
transaction history (paged), and the readiness checklist. Approve, reject,
execute and new-request live in ``ledger_actions``; every backend call runs in a
worker; a failure becomes a notification.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import DataTable, Sparkline, Static, TabbedContent, TabPane

from ..widgets.format import one_line, utc
from ..widgets.ledger_text import (
    Units,
    approve_refusal,
    execute_refusal,
    impact_text,
    movement,
    reject_refusal,
    step_series,
    supply_points,
    time_span,
    wallet_points,
    x_axis,
    y_axis,
)
from ..widgets.paged_table import Column, PagedTable, reveal
from ..widgets.safe_text import literal, safe
from ..widgets.workers import work
from .base import BackendScreen, reload_binding
from .ledger_actions import NO_TOKEN, LedgerActions

if TYPE_CHECKING:
    from ..backend.schemas import Page, Project
    from ..backend.schemas.tokens import (
        TokenizationStatus,
        TokenRequest,
        TokenStatus,
        TokenTransaction,
        Wallet,
    )

PAGE = 50
CHART_HISTORY = 200  # transactions the charts look back over
PICK_TOKEN_PROJECT_TRIES = 10  # on first load, prefer a project that has a token
STATES = ["pending", "approved", "all", "executed", "failed", "rejected", "cancelled"]


def _v(value: object) -> str:
    return str(getattr(value, "value", value) or "")


def _right(text: str) -> Text:
    return Text(text, justify="right")


class LedgerScreen(LedgerActions, BackendScreen):
    MODE = "ledger"
    CSS_PATH = "../styles/ledger.tcss"
    AUTO_FOCUS = "#request-table"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-short"), (32, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve", tooltip="Approve the request", id="ledger.approve"),
        Binding("r", "reject", "Reject", tooltip="Reject (or cancel your own) request", id="ledger.reject"),
        Binding("x", "execute", "Execute", tooltip="Execute the approved request", id="ledger.execute"),
        Binding("n", "new_request", "New", tooltip="New token request", id="ledger.new_request"),
        Binding("f", "cycle_filter", "Filter", tooltip="Next request state filter", id="ledger.filter"),
        Binding("p", "pick_project", "Project", tooltip="Choose the project", id="ledger.project"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="ledger.next_tab"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="ledger.prev_tab"),
        reload_binding("ledger"),
    ]
    VIEW_ACTIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "approve": ("requests",), "reject": ("requests",), "execute": ("requests",), "cycle_filter": ("requests",),
    }
    TABS = ("requests", "wallets", "history", "setup")

    def __init__(self) -> None:
        super().__init__()
        self.project_id: str | None = None
        self.project_name = ""
        self.projects: list[Project] = []  # what the project picker offers
        self.me: str | None = None
        self.status: TokenStatus | None = None
        self.readiness: TokenizationStatus | None = None
        self.state_filter = "pending"
        self.wallet_address: str | None = None  # the wallet the second chart follows
        self._wanted: tuple[str, str] | None = None  # (tab, row key) a notification asked to show
        self._supply: list[int] = []
        self._wallet: list[int] = []
        self._supply_span: tuple[datetime, datetime] | None = None  # first and last transaction drawn
        self._wallet_span: tuple[datetime, datetime] | None = None

    # ---- layout --------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        def units(amount: int) -> str:
            return self.units(amount, symbol=False)

        request_columns: list[Column[TokenRequest]] = [
            Column("kind", "Kind", lambda r: _v(r.kind), lambda r: _v(r.kind)),
            Column("amount", "Amount", lambda r: _right(units(r.amount)), lambda r: r.amount),
            Column("route", "From → to", lambda r: " → ".join(w for w in (r.from_wallet, r.to_wallet) if w)),
            Column("by", "By", lambda r: r.requested_by_name, lambda r: r.requested_by_name),
            Column("state", "State", lambda r: _v(r.status), lambda r: _v(r.status)),
            Column("ok", "OK", lambda r: f"{len(r.approvals)}/{r.required_approvals}"),
        ]
        wallet_columns: list[Column[Wallet]] = [
            Column("address", "Address", lambda w: w.address, lambda w: w.address),
            Column("label", "Label", lambda w: w.label, lambda w: w.label.casefold()),
            Column("owner", "Owner", lambda w: w.owner_username or _v(w.owner_kind), lambda w: w.owner_username or ""),
            Column("balance", "Balance", lambda w: _right(units(w.balance)), lambda w: w.balance),
            Column("frozen", "Frozen", lambda w: Text("frozen", style="bold") if w.frozen else "",
                   lambda w: w.frozen),
        ]
        history_columns: list[Column[TokenTransaction]] = [
            Column("seq", "#", lambda t: _right(str(t.seq)), lambda t: t.seq),
            Column("kind", "Kind", lambda t: _v(t.kind), lambda t: _v(t.kind)),
            Column("amount", "Amount", lambda t: _right(units(t.amount)), lambda t: t.amount),
            Column("route", "From → to", movement),
            Column("supply", "Supply after", lambda t: _right(units(t.supply_after)), lambda t: t.supply_after),
            Column("when", "When (UTC)", lambda t: utc(t.created_at), lambda t: t.created_at),
            Column("memo", "Memo", lambda t: one_line(t.memo, 40)),
        ]
        with Horizontal(id="ledger-top"):
            yield Static(Text("Project…", style="dim italic"), id="ledger-project")
            yield Static("", id="ledger-summary")
        with Horizontal(id="ledger-charts"):
            for name in ("supply", "wallet"):
                # A title line, then amounts (highest, lowest) beside the bars and dates under them.
                with Vertical(classes="chart"):
                    yield Static(name.title(), id=f"{name}-label", classes="chart-label")
                    with Horizontal(classes="chart-plot"):
                        yield Static("", id=f"{name}-y", classes="chart-y")
                        yield Sparkline([], summary_function=max, id=f"{name}-chart")
                    yield Static("", id=f"{name}-x", classes="chart-x")
        with TabbedContent(id="ledger-tabs", initial="tab-requests"):
            with TabPane("Requests", id="tab-requests"):
                yield Static("", id="request-filter-label")
                with Horizontal(id="requests-body"):
                    yield PagedTable(request_columns, lambda r: r.id, empty="No requests in this state.",
                                     id="request-table")
                    with VerticalScroll(id="impact-pane"):
                        yield Static(safe(impact_text(None, None)), id="impact")
            with TabPane("Wallets", id="tab-wallets"):
                yield PagedTable(wallet_columns, lambda w: w.address, empty="No wallets yet.", id="wallet-table")
            with TabPane("History", id="tab-history"):
                yield PagedTable(history_columns, lambda t: t.id, empty="No transactions yet.", id="history-table")
            with TabPane("Setup", id="tab-setup"), VerticalScroll():
                yield Static("", id="readiness")

    # ---- lookups -------------------------------------------------------------------

    @property
    def units(self) -> Units:
        return Units.of(self.status)

    @property
    def requests_table(self) -> PagedTable[TokenRequest]:
        return cast("PagedTable[TokenRequest]", self.query_one("#request-table", PagedTable))

    @property
    def selected_request(self) -> TokenRequest | None:
        try:
            return self.requests_table.selected
        except NoMatches:  # the footer asks check_action before the tabs are composed
            return None

    @property
    def approver_ids(self) -> list[str]:
        settings = self.readiness.settings if self.readiness else None
        return list(settings.approver_ids) if settings else []

    def current_view(self) -> str | None:
        return self.query_one("#ledger-tabs", TabbedContent).active.removeprefix("tab-") or None

    def show_view(self, view: str) -> None:
        # Focus follows the tab: a focused table left in a hidden tab would pull its tab back.
        self.query_one("#ledger-tabs", TabbedContent).active = f"tab-{view}"
        focus = {"requests": "#request-table", "wallets": "#wallet-table", "history": "#history-table"}.get(view)
        if focus:
            self.query_one(focus).focus()
        else:
            self.query_one("#ledger-tabs", TabbedContent).query_one("Tabs").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and self.refusal(action):
            return None  # shown dimmed; pressed anyway, the app says why (SaysWhyKeysAreOff)
        return allowed

    def refusal(self, action: str) -> str:
        """Why a key is off now ("" when it is on): the one rule for dimming and for saying why."""
        req = self.selected_request
        if action == "approve":
            return approve_refusal(req, self.me, self.approver_ids)
        if action == "execute":
            return execute_refusal(req)
        if action == "reject":
            return reject_refusal(req)
        if action == "new_request" and (self.status is None or self.status.symbol is None):
            return NO_TOKEN
        return ""

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.load_ledger()

    @work(exclusive=True, group="ledger", exit_on_error=False)
    async def load_ledger(self, project_id: str | None = None) -> None:
        await self._load(project_id)

    async def _load(self, project_id: str | None = None) -> None:
        backend = self.backend
        if self.me is None:
            self.me = (await backend.auth.me()).id
        projects: list[Project] = (await backend.projects.list(limit=200)).items
        wanted = project_id or self.project_id
        if wanted not in {p.id for p in projects}:
            wanted = await self._first_with_token(projects)
        self.projects = projects
        self.project_id = wanted
        self.project_name = next((p.name for p in projects if p.id == wanted), "")
        self._show_project()
        await self._load_project()

    async def _first_with_token(self, projects: list[Project]) -> str | None:
        for p in projects[:PICK_TOKEN_PROJECT_TRIES]:
            if (await self.backend.tokenization.token_status(p.id)).symbol:
                return p.id
        return projects[0].id if projects else None

    async def _load_project(self) -> None:
        pid = self.project_id
        if pid is None:
            self._show_nothing()
            return
        t = self.backend.tokenization
        readiness, status, requests, wallets, history = await asyncio.gather(
            t.status(pid), t.token_status(pid), self._requests(None), t.list_wallets(pid, limit=PAGE),
            t.list_transactions(pid, limit=CHART_HISTORY))
        self.readiness, self.status = readiness, status
        self.requests_table.reset(requests.items, requests.next_cursor)
        wallet_table = cast("PagedTable[Wallet]", self.query_one("#wallet-table", PagedTable))
        wallet_table.reset(wallets.items, wallets.next_cursor)
        history_table = cast("PagedTable[TokenTransaction]", self.query_one("#history-table", PagedTable))
        history_table.reset(history.items, history.next_cursor)
        self._supply, self._supply_span = supply_points(history.items), time_span(history.items)
        addresses = [w.address for w in status.wallets]
        if self.wallet_address not in addresses:
            holders = [w for w in status.wallets if w.balance > 0]
            self.wallet_address = (holders[0].address if holders else addresses[0]) if addresses else None
        await self._reveal_wanted()
        await self._load_wallet_chart()
        self._show_header()
        self._show_readiness()
        self._show_selected()

    def _requests(self, cursor: str | None) -> Awaitable[Page[TokenRequest]]:
        assert self.project_id is not None
        state = None if self.state_filter == "all" else self.state_filter
        return self.backend.tokenization.list_requests(self.project_id, limit=PAGE, cursor=cursor, status=state)

    async def _load_wallet_chart(self) -> None:
        self._wallet, self._wallet_span = [], None
        if self.project_id and self.wallet_address:
            page = await self.backend.tokenization.list_transactions(self.project_id, limit=CHART_HISTORY,
                                                                     wallet=self.wallet_address)
            self._wallet = wallet_points(page.items, self.wallet_address)
            self._wallet_span = time_span(page.items, self.wallet_address)
        self._draw_charts()

    @work(exclusive=True, group="ledger-wallet", exit_on_error=False)
    async def follow_wallet(self, address: str) -> None:
        if address != self.wallet_address:
            self.wallet_address = address
            await self._load_wallet_chart()

    @work(exclusive=True, group="ledger-requests", exit_on_error=False)
    async def load_requests(self) -> None:
        if self.project_id is None:
            return
        table = self.requests_table
        table.fetching = True
        try:
            page = await self._requests(None)
        finally:
            table.fetching = False
        table.reset(page.items, page.next_cursor)
        self._show_filter()
        self._show_selected()

    @work(exclusive=True, group="ledger-more", exit_on_error=False)
    async def load_more(self, table: PagedTable[Any]) -> None:
        if self.project_id is None:
            return
        generation, cursor = table.generation, table.next_cursor
        t = self.backend.tokenization
        table.fetching = True
        try:
            if table.id == "request-table":
                page = await self._requests(cursor)
            elif table.id == "wallet-table":
                page = await t.list_wallets(self.project_id, limit=PAGE, cursor=cursor)
            else:
                page = await t.list_transactions(self.project_id, limit=PAGE, cursor=cursor)
        finally:
            table.fetching = False
        if generation == table.generation:
            table.extend(page.items, page.next_cursor)

    # ---- drawing -------------------------------------------------------------------

    def _show_nothing(self) -> None:
        self.query_one("#ledger-summary", Static).update(Text("No projects yet.", style="dim italic"))
        for table_id in ("#request-table", "#wallet-table", "#history-table"):
            cast("PagedTable[Any]", self.query_one(table_id, PagedTable)).show_placeholder("No project selected.")

    def _show_header(self) -> None:
        st, units = self.status, self.units
        summary = self.query_one("#ledger-summary", Static)
        if st is None or st.symbol is None:
            ready = self.readiness
            done = sum(i.done for i in ready.checklist) if ready else 0
            summary.update(Text(f"No token yet ({done}/4 ready): see the Setup tab.", style="italic"))
        else:
            summary.update(safe(Text.assemble(
                (units(st.total_supply), "bold"), (" supply · ", "dim"), str(st.holders), (" holders · ", "dim"),
                str(st.transaction_count), (" tx", "dim"))))
        self._show_filter()
        self._draw_charts()

    def _show_filter(self) -> None:
        label = "all states" if self.state_filter == "all" else self.state_filter
        self.query_one("#request-filter-label", Static).update(safe(
            Text.assemble(("Showing ", "dim"), (label, "bold"), (" requests · f: next state", "dim"))))

    def _draw_charts(self) -> None:
        units = self.units
        for name, points, span, title in (
            ("supply", self._supply, self._supply_span, "Supply"),  # minted/burned: Setup tab
            ("wallet", self._wallet, self._wallet_span, f"Wallet {self.wallet_address or '-'}"),
        ):
            chart = self.query_one(f"#{name}-chart", Sparkline)
            label = self.query_one(f"#{name}-label", Static)
            y_side, x_side = self.query_one(f"#{name}-y", Static), self.query_one(f"#{name}-x", Static)
            if not points:
                chart.data = []
                y_side.update("")
                x_side.update("")
                label.update(safe(Text.assemble((title, "bold"), ("  no history yet", "dim italic"))))
                continue
            chart.data = step_series(points, max(chart.size.width, 1))
            y_side.update(Text(y_axis(points, units.decimals, chart.size.height or 1, y_side.size.width or 5),
                               style="dim"))
            x_side.update(Text(x_axis(span, chart.size.width), style="dim"))
            label.update(safe(Text.assemble((title, "bold"), ("  now ", "dim"), units(points[-1], symbol=False),
                                       ("  max ", "dim"), units(max(points), symbol=False))))

    def _show_readiness(self) -> None:
        ready = self.readiness
        if ready is None:
            return
        out = Text.assemble(("Ready to move tokens" if ready.ready else "Not ready yet", "bold"), "\n")
        for item in ready.checklist:
            out.append(f"\n {'✓' if item.done else '✗'} ", style="green" if item.done else "red")
            out.append(item.label)
            out.append(f"  {item.detail}", style="dim")
        s = ready.settings
        if s is not None:
            threshold = self.units(s.confirm_threshold) if s.confirm_threshold else "never"
            out.append(f"\n\nToken {s.symbol}{f' ({s.name})' if s.name else ''}, {s.decimals} decimals")
            out.append(f"\nApprovals required: {s.required_approvals}; direct operations: "
                       f"{'allowed for the owner and admins' if s.allow_direct_operations else 'off'}")
            out.append(f"\nType the project name to confirm above: {threshold}")
        st = self.status
        if st is not None and st.symbol:
            out.append(f"\n\nMinted {self.units(st.minted)} · burned {self.units(st.burned)} · "
                       f"supply {self.units(st.total_supply)}")
            out.append(f"\n{st.wallet_count} wallets, {st.holders} holding tokens; {st.transaction_count} transactions")
        self.query_one("#readiness", Static).update(safe(out))

    def _show_selected(self) -> None:
        req = self.selected_request
        why = (approve_refusal(req, self.me, self.approver_ids)
               if req is not None and _v(req.status) == "pending" else "")
        self.query_one("#impact", Static).update(safe(impact_text(req, self.status, why)))
        self.refresh_bindings()

    def on_resize(self) -> None:
        self.call_after_refresh(self._draw_charts)

    def on_data_changed(self, project_ids: frozenset[str | None]) -> None:
        if self.crewos.backend is not None and self.is_current and (
                self.project_id in project_ids or None in project_ids):
            self.reload()

    # ---- events --------------------------------------------------------------------

    def choose_project(self, project_id: str | None) -> None:
        """Show ``project_id``'s ledger (what the project picker calls back with; ``None``: cancelled)."""
        if project_id and project_id != self.project_id:
            self.wallet_address = None
            self.load_ledger(project_id)
            self.requests_table.focus()

    def _show_project(self) -> None:
        key = self.crewos.key_of(next(b for b in self.screen_bindings() if b.id == "ledger.project"))
        name = literal(one_line(self.project_name, 24), style="bold") if self.project_name else Text(
            "no project", style="italic")
        self.query_one("#ledger-project", Static).update(Text.assemble(name, (f" {key}", "dim")))

    def on_click(self, event: events.Click) -> None:
        if event.widget is not None and event.widget.id == "ledger-project":
            self.action_pick_project()

    @on(DataTable.RowHighlighted, "#request-table")
    def _request_highlighted(self) -> None:
        self._show_selected()

    @on(DataTable.RowHighlighted, "#wallet-table")
    def _wallet_highlighted(self) -> None:
        wallet = cast("PagedTable[Wallet]", self.query_one("#wallet-table", PagedTable)).selected
        if wallet is not None:
            self.follow_wallet(wallet.address)

    @on(PagedTable.NeedMore)
    def _need_more(self, event: PagedTable.NeedMore) -> None:
        self.load_more(event.table)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    # ---- view actions --------------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.state_filter = STATES[(STATES.index(self.state_filter) + 1) % len(STATES)]
        self._show_filter()
        self.load_requests()

    def action_pick_project(self) -> None:
        from ..widgets.project_picker import ProjectPicker

        self.app.push_screen(ProjectPicker(self.projects, self.project_id), self.choose_project)

    def action_tab(self, step: int) -> None:
        current = self.current_view() or self.TABS[0]
        self.show_view(self.TABS[(self.TABS.index(current) + step) % len(self.TABS)])

    #: Resource type a notification links to -> the tab that lists it.
    LINK_VIEWS: ClassVar[dict[str, str]] = {"token_request": "requests", "token_transaction": "history"}

    def open_link(self, link: Any) -> None:
        """Show the project, and the request or transaction, a notification points to.

        What to select is kept (``_wanted``) until a load of the project has put the cursor
        on it, so a reload meanwhile (live updates, the notification just marked read) takes
        it over instead of leaving the cursor on whatever row was first."""
        view = self.LINK_VIEWS.get(link.resource_type, "requests")
        self._wanted = (view, link.resource_id) if link.resource_type in self.LINK_VIEWS else None
        if view == "requests":
            self.state_filter = "all"  # the request may be in any state by now
        self.show_view(view)
        if link.project_id and link.project_id != self.project_id:
            self.project_id, self.wallet_address = link.project_id, None
        self.load_ledger(link.project_id)

    async def _reveal_wanted(self) -> None:
        """Put the cursor on what a notification asked for, paging its table to it."""
        if self._wanted is None or self.project_id is None:
            return
        view, key = self._wanted
        pid, t = self.project_id, self.backend.tokenization
        if view == "history":
            table: PagedTable[Any] = cast("PagedTable[Any]", self.query_one("#history-table", PagedTable))
            found = await reveal(table, key, lambda c: t.list_transactions(pid, limit=PAGE, cursor=c))
        else:
            found = await reveal(self.requests_table, key, self._requests)
        self._wanted = None
        if not found:
            what = "transaction" if view == "history" else "request"
            self.crewos.say(f"That token {what} is not in {self.project_name or 'this project'}'s ledger.",
                            severity="warning")


__all__ = ["LedgerScreen"]
