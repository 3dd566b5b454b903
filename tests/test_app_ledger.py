"""Pilot tests of the ledger screen, checked against the backend: the demo ledger,
the maker-checker flow between two users (``--as devon`` makes a request, maya
approves and executes it after reading the impact preview), the typed
confirmation for burns, refusals, and the new-request form's validation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.ledger import LedgerScreen
from crewos_tui.widgets.confirm import ConfirmModal
from crewos_tui.widgets.forms import FormModal
from crewos_tui.widgets.typed_confirm import TypedConfirmModal

from .app_support import Notes, make_app, settle

SIZE = (120, 40)


async def open_ledger(pilot: Pilot[Any]) -> LedgerScreen:
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LedgerScreen), screen
    return screen


async def pick_request(pilot: Pilot[Any], screen: LedgerScreen, predicate: Any) -> Any:
    table = screen.requests_table
    req = next(r for r in table.items if predicate(r))
    assert table.select_key(req.id)
    await settle(pilot)
    return req


async def request_by_memo(app: Any, pid: str, memo: str) -> Any:
    page = await app.backend.tokenization.list_requests(pid, limit=200)
    return next(r for r in page.items if r.memo == memo)


def preview(screen: LedgerScreen) -> str:
    return str(screen.query_one("#impact", Static).render())


async def test_the_demo_ledger_loads(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        assert screen.project_name == "Atlas Launch"
        assert screen.status is not None and screen.status.total_supply == 29_500_000
        assert [r.memo for r in screen.requests_table.items] == [
            "Docs site bounty", "Retire the unallocated reserve", "Everything, please (too much)"]
        assert screen._supply[0] == 0 and screen._supply[-1] == 29_500_000
        assert screen.wallet_address == "atlas-treasury" and screen._wallet[-1] == 23_275_000
        assert "295,000.00 ATL" in str(screen.query_one("#ledger-summary", Static).render())
        text = preview(screen)
        assert "atlas-treasury  232,750.00 → 212,750.00" in text and "devon  31,750.00 → 51,750.00" in text


async def test_own_request_cannot_be_approved(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        req = await pick_request(pilot, screen, lambda r: r.requested_by_name == "maya")
        assert screen.check_action("approve", ()) is None  # shown dimmed
        assert "You made this request" in preview(screen)
        notes = Notes(app)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen  # no confirmation opened
        # ...and the key is refused aloud, at once, with the reason (not silently ignored).
        assert ("warning", "You made this request: another approver must approve it.") in list(notes)
        page = await app.backend.tokenization.list_requests(screen.project_id, status="pending")
        assert req.id in [r.id for r in page.items]


async def test_request_by_devon_then_approve_and_execute_as_maya(demo_spec: LaunchSpec) -> None:
    # devon (--as devon) makes a request with the form.
    devon_app = make_app(replace(demo_spec, username="devon"))
    async with devon_app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        await pilot.press("n")
        form = devon_app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-from_wallet", Select).value = "atlas-treasury"
        form.query_one("#field-to_wallet", Select).value = "devon"
        form.query_one("#field-amount", Input).value = "1,250.5"
        form.query_one("#field-memo", Input).value = "Pilot bounty"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert devon_app.screen is screen
        pid = screen.project_id
        made = await request_by_memo(devon_app, pid, "Pilot bounty")
        assert (made.kind, made.amount, made.status, made.requested_by_name) == ("transfer", 125_050, "pending",
                                                                                 "devon")
        await pick_request(pilot, screen, lambda r: r.id == made.id)
        assert screen.check_action("approve", ()) is None  # devon's own request

    # maya (the demo user, an approver) reviews the impact, approves, executes.
    maya_app = make_app(demo_spec)
    async with maya_app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        await pick_request(pilot, screen, lambda r: r.memo == "Pilot bounty")
        assert "devon  31,750.00 → 33,000.50" in preview(screen)
        assert "supply  295,000.00 → 295,000.00" in preview(screen)
        await pilot.press("a")
        assert isinstance(maya_app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert (await request_by_memo(maya_app, pid, "Pilot bounty")).status == "approved"

        await pilot.press("f")  # pending → approved
        await settle(pilot)
        await pick_request(pilot, screen, lambda r: r.memo == "Pilot bounty")
        assert screen.check_action("execute", ()) is True
        await pilot.press("x")
        assert isinstance(maya_app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        done = await request_by_memo(maya_app, pid, "Pilot bounty")
        assert done.status == "executed" and done.transaction_id
        balances = {w.address: w.balance for w in (await maya_app.backend.tokenization.token_status(pid)).wallets}
        assert balances["devon"] == 3_175_000 + 125_050
        assert screen.status is not None and screen.status.transaction_count == 11


async def test_a_burn_needs_the_project_name_typed(demo_spec: LaunchSpec) -> None:
    priya_app = make_app(replace(demo_spec, username="priya"))
    async with priya_app.run_test(size=SIZE) as pilot:  # priya approves maya's burn first
        screen = await open_ledger(pilot)
        await pick_request(pilot, screen, lambda r: r.memo == "Retire the unallocated reserve")
        await pilot.press("a")
        assert isinstance(priya_app.screen, TypedConfirmModal)  # a burn: typing needed to approve too
        await pilot.press("y", "enter")  # "y" alone is not the project name
        assert isinstance(priya_app.screen, TypedConfirmModal)
        priya_app.screen.query_one(Input).value = "Atlas Launch"
        await pilot.press("enter")
        await settle(pilot)
        pid = screen.project_id
        assert (await request_by_memo(priya_app, pid, "Retire the unallocated reserve")).status == "approved"

    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pick_request(pilot, screen, lambda r: r.memo == "Retire the unallocated reserve")
        assert "supply  295,000.00 → 265,000.00" in preview(screen)
        await pilot.press("x")
        assert isinstance(app.screen, TypedConfirmModal)
        await pilot.press("escape")  # cancelled: nothing happens
        await settle(pilot)
        assert (await request_by_memo(app, pid, "Retire the unallocated reserve")).status == "approved"
        await pilot.press("x")
        app.screen.query_one(Input).value = "Atlas Launch"
        await pilot.press("enter")
        await settle(pilot)
        assert (await request_by_memo(app, pid, "Retire the unallocated reserve")).status == "executed"
        assert (await app.backend.tokenization.token_status(pid)).total_supply == 26_500_000


async def test_reject_and_a_failing_execute_are_reported(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        notes = Notes(app)
        screen = await open_ledger(pilot)
        pid = screen.project_id
        # The huge request: maya approves it, then executing fails (not enough in the treasury).
        await pick_request(pilot, screen, lambda r: r.memo.startswith("Everything"))
        assert "✗ would fail: atlas-treasury holds 232,750.00 ATL" in preview(screen)
        await pilot.press("a")
        assert isinstance(app.screen, TypedConfirmModal)  # above the 100,000.00 threshold
        app.screen.query_one(Input).value = "Atlas Launch"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pick_request(pilot, screen, lambda r: r.memo.startswith("Everything"))
        await pilot.press("x")
        app.screen.query_one(Input).value = "Atlas Launch"
        await pilot.press("enter")
        await settle(pilot)
        assert any("insufficient balance" in e for e in notes.errors()), notes.items
        failed = await request_by_memo(app, pid, "Everything, please (too much)")
        assert failed.status == "failed" and "shortfall" in failed.failure_reason
        # Rejecting devon's bounty.
        for _ in range(len(["approved", "all", "executed", "failed", "rejected", "cancelled"])):
            await pilot.press("f")
        await settle(pilot)
        assert screen.state_filter == "pending"
        await pick_request(pilot, screen, lambda r: r.memo == "Docs site bounty")
        await pilot.press("r", "y")
        await settle(pilot)
        assert (await request_by_memo(app, pid, "Docs site bounty")).status == "rejected"


async def test_new_request_form_validates_amounts_and_wallets(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        before = len((await app.backend.tokenization.list_requests(screen.project_id, limit=200)).items)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, FormModal)

        def error(field: str) -> str:
            return str(form.query_one(f"#error-{field}", Static).render())

        amount = form.query_one("#field-amount", Input)
        for text, expected in [("1.234", "more precision"), ("0", "more than zero"), ("-5", "plain decimal"),
                               ("1e3", "plain decimal")]:
            amount.value = text
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert expected in error("amount"), (text, error("amount"))
        amount.value = "10"
        await pilot.press("ctrl+s")  # a transfer without wallets
        await settle(pilot)
        assert "needs the wallet it takes tokens from" in error("from_wallet")
        form.query_one("#field-kind", Select).value = "mint"
        form.query_one("#field-from_wallet", Select).value = "devon"
        form.query_one("#field-to_wallet", Select).value = "maya"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "leave From empty" in error("from_wallet")
        await pilot.press("escape")
        await settle(pilot)
        after = len((await app.backend.tokenization.list_requests(screen.project_id, limit=200)).items)
        assert after == before


async def test_a_project_without_a_token_shows_its_checklist(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        harbor = next(p for p in (await app.backend.projects.list()).items if p.name == "Harbor Research")
        await pilot.press("p", *"harb", "enter")  # the project picker: a few letters, enter
        await settle(pilot)
        assert screen.project_id == harbor.id and screen.status is not None and screen.status.symbol is None
        assert "No token yet (0/4 ready)" in str(screen.query_one("#ledger-summary", Static).render())
        assert "✗ Token defined" in str(screen.query_one("#readiness", Static).render())
        assert screen.check_action("new_request", ()) is None


async def test_a_notification_link_opens_the_request(demo_spec: LaunchSpec) -> None:
    from types import SimpleNamespace

    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ledger(pilot)
        pid = screen.project_id
        rejected = await request_by_memo(app, pid, "Conference travel")
        screen.open_link(SimpleNamespace(resource_type="token_request", resource_id=rejected.id, project_id=pid))
        await settle(pilot)
        assert screen.state_filter == "all" and screen.current_view() == "requests"
        assert screen.selected_request is not None and screen.selected_request.id == rejected.id
        assert "Comment: Travel comes from the events budget." in preview(screen)
