"""Pilot tests of the review screen (local demo), checked against the backend: decide and
advance, undo inside the grace window, reasons, release, marks and batches with a
receipt (and type-to-confirm), a refused batch, validation, downloads, and the
capability-gap view."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Button, Input, Label, Static
from textual.widgets._toast import Toast

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens import review, review_actions
from crewos_tui.screens.gaps import GapsScreen
from crewos_tui.screens.review import ReviewScreen
from crewos_tui.widgets.confirm import ConfirmModal
from crewos_tui.widgets.forms import FormModal
from crewos_tui.widgets.review_modals import ReasonModal, ReceiptModal
from crewos_tui.widgets.typed_confirm import TypedConfirmModal

from .app_support import Notes, make_app, settle

SIZE = (80, 24)
GRACE = 0.4


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_actions, "GRACE_SECONDS", GRACE)
    monkeypatch.setattr(review, "STATS_EVERY", 0.05)


async def open_review(pilot: Pilot[Any]) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen), screen
    return screen


async def after_grace(pilot: Pilot[Any]) -> None:
    await pilot.pause(GRACE + 0.3)
    await settle(pilot)


async def state(pilot: Pilot[Any], item_id: str) -> str:
    return str((await pilot.app.backend.review.get(item_id)).state.value)


async def as_user(pilot: Pilot[Any], name: str) -> Any:
    backend = pilot.app.backend
    return backend.as_user(await backend.services.auth.principal_for(name))


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[{" ": "space", "/": "slash", ".": "full_stop", "-": "minus", "_": "underscore"}.get(c, c)
                        for c in text])


async def test_the_queue_shows_pending_items_oldest_first(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        titles = [i.title for i in screen.table.items]
        assert titles[0] == "Weekly update: Atlas beta" and len(titles) == 8
        assert all(str(i.state.value) == "pending" for i in screen.table.items)
        assert screen.shown_id == screen.table.items[0].id
        assert screen.stats is not None and screen.stats.pending == 8


async def test_a_approves_and_advances_then_the_backend_says_approved(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first, second = screen.table.items[0], screen.table.items[1]
        await pilot.press("a")
        assert screen.current is not None and screen.current.id == second.id  # moved on at once
        assert screen.shown_id == second.id
        assert await state(pilot, first.id) == "pending"  # still inside the undo window
        await after_grace(pilot)
        assert await state(pilot, first.id) == "approved"
        detail = await pilot.app.backend.review.get(first.id)
        assert detail.decided_by == "maya"
        assert screen.stats is not None and screen.stats.pending == 7 and screen.stats.my_decisions_today == 1


async def test_u_undoes_a_decision_before_it_is_sent(demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_actions, "GRACE_SECONDS", 2.0)  # room for a slow machine between a and u
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.table.items[0]
        await pilot.press("a", "u")
        assert screen.current is not None and screen.current.id == first.id  # back on it
        await pilot.pause(2.3)
        await settle(pilot)
        assert await state(pilot, first.id) == "pending"
        notes = Notes(pilot.app)
        await pilot.press("u")  # nothing left to undo: a warning, nothing else
        assert [m for _, m in notes if m.startswith("Nothing to undo")], list(notes)
        await pilot.press("a")
        await pilot.pause(2.3)
        await settle(pilot)
        assert await state(pilot, first.id) == "approved"


async def test_a_viewer_is_refused_at_once_with_the_reason(demo_spec: LaunchSpec) -> None:
    """sam is a viewer: the item already says sam may not decide it, so ``a`` is refused
    on the spot (no hold, no undo window) with the service's own reason."""
    async with make_app(replace(demo_spec, username="sam")).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.current
        assert first is not None and first.allowed_actions == [] and "approve" in first.refusals
        notes = Notes(pilot.app)
        await pilot.press("a")
        assert not screen.pending and not screen.sending  # nothing held to be refused later
        assert (f"Refused: {first.refusals['approve']}." in [m for _, m in notes]), list(notes)
        assert "reviewer role" in first.refusals["approve"]
        await pilot.press("r")
        assert not isinstance(pilot.app.screen, ReasonModal)  # no reason asked for a refused decision
        assert await state(pilot, first.id) == "pending"


async def test_reject_asks_for_a_reason_with_quick_reasons(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first, second = screen.table.items[0], screen.table.items[1]
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReasonModal)
        await pilot.press("2")  # "Incomplete"
        await settle(pilot)
        assert screen.current is not None and screen.current.id == second.id
        await after_grace(pilot)
        item = await pilot.app.backend.review.get(first.id)
        assert str(item.state.value) == "rejected" and item.decision_reason == "Incomplete"
        # Quarantine with a typed reason; escape on the prompt decides nothing.
        await pilot.press("q")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert await state(pilot, second.id) == "pending"
        await pilot.press("q", "tab")
        await type_text(pilot, "leaks a key")
        await pilot.press("enter")
        await after_grace(pilot)
        item = await pilot.app.backend.review.get(second.id)
        assert str(item.state.value) == "quarantined" and item.decision_reason == "leaks a key"


async def test_quarantined_items_can_be_released_but_not_approved(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.press("f")  # pending -> quarantined
        await settle(pilot)
        (held,) = screen.table.items
        assert held.title == "Customer data export script"
        await pilot.press("a")
        assert any("cannot be approved" in m for _, m in notes)
        await pilot.press("p")
        await after_grace(pilot)
        assert await state(pilot, held.id) == "pending"


async def test_marks_and_a_batch_with_a_saved_receipt(demo_spec: LaunchSpec, tmp_path: Any) -> None:
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        ids = [i.id for i in screen.table.items[:3]]
        await pilot.press("space", "space", "space")
        assert screen.marked == set(ids)
        await pilot.press("A")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, ConfirmModal) and "3 marked items" in modal._title
        await pilot.press("y")
        await settle(pilot)
        receipt = pilot.app.screen
        assert isinstance(receipt, ReceiptModal)
        assert [await state(pilot, i) for i in ids] == ["approved"] * 3
        # The receipt says what the batch did, in its title; no toast covers it.
        title = str(receipt.query_one("#receipt-title", Label).render())
        assert title.startswith("Approved 3 items (batch ") and not any("batch" in m for _, m in notes), list(notes)
        target = tmp_path / "receipt"
        path_input = receipt.query_one("#receipt-path")
        path_input.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        md, js = tmp_path / "receipt.md", tmp_path / "receipt.json"
        data = json.loads(js.read_text())
        assert data["actor"] == "maya" and data["count"] == 3
        assert [(i["item_id"], i["decision"], i["to_state"]) for i in data["items"]] == [
            (i, "approve", "approved") for i in ids]
        assert "Review decision receipt" in md.read_text() and ids[0] in md.read_text()
        await pilot.press("escape")
        await settle(pilot)
        assert screen.marked == set()


async def test_the_receipt_fits_80x24_with_its_buttons_and_says_where_it_saved(
        demo_spec: LaunchSpec, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the path typed below is relative: the dialog names it in full
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_review(pilot)
        ids = [i.id for i in screen.table.items[:2]]
        await pilot.press("space", "space", "A")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        receipt = pilot.app.screen
        assert isinstance(receipt, ReceiptModal)
        app.notify("A toast that arrives meanwhile, long enough to take two lines or three.")
        await pilot.pause()
        await pilot.pause()
        whole = Region(0, 0, *SIZE)
        path_input = receipt.query_one("#receipt-path", Input)
        save, close = receipt.query_one("#receipt-save", Button), receipt.query_one("#receipt-close", Button)
        toasts = [t.region for t in receipt.query(Toast)]
        assert toasts, "the toast is on the receipt"
        for widget in (path_input, save, close):
            region = widget.region
            assert whole.contains_region(region), (widget, region)  # on screen, not cut off
            x, y = region.center
            assert receipt.get_widget_at(int(x), int(y))[0] is widget  # nothing on top of it
            assert not any(t.overlaps(region) for t in toasts), (widget, region, toasts)

        path_input.value = "kept/receipt"
        await pilot.click("#receipt-save")
        await settle(pilot)
        md, js = tmp_path / "kept" / "receipt.md", tmp_path / "kept" / "receipt.json"
        assert json.loads(js.read_text())["items"][0]["item_id"] == ids[0] and md.exists()
        note = receipt.query_one("#receipt-note", Static)
        assert str(note.render()) == f"Saved {md} and {js}"
        assert whole.contains_region(note.region) and whole.contains_region(close.region)
        await pilot.click("#receipt-close")
        await settle(pilot)
        assert pilot.app.screen is screen


async def test_big_batches_need_the_count_typed(demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_actions, "TYPE_TO_CONFIRM_ABOVE", 1)
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        ids = [i.id for i in screen.table.items[:2]]
        await pilot.press("space", "space", "R")
        await settle(pilot)
        await pilot.press("1")  # the reason for all of them
        await settle(pilot)
        assert isinstance(pilot.app.screen, TypedConfirmModal)
        await pilot.press("y", "enter")  # "y" is not the count
        await settle(pilot)
        assert isinstance(pilot.app.screen, TypedConfirmModal)
        assert [await state(pilot, i) for i in ids] == ["pending"] * 2
        pilot.app.screen.query_one("#typed-confirm-input").value = "2"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReceiptModal)
        items = [await pilot.app.backend.review.get(i) for i in ids]
        assert [(str(i.state.value), i.decision_reason) for i in items] == [
            ("rejected", "Inaccurate or wrong facts")] * 2


async def test_a_refused_batch_changes_nothing_and_says_why(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        ids = [i.id for i in screen.table.items[:2]]
        await pilot.press("space", "space")
        # Someone else decides the second item meanwhile.
        priya = await as_user(pilot, "priya")
        await priya.review.reject(ids[1], "not needed")
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert any("batch refused" in m and ids[1] in m for m in notes.errors())
        assert await state(pilot, ids[0]) == "pending"
        assert screen.marked >= {ids[0]}
        assert not isinstance(pilot.app.screen, ReceiptModal)


async def test_validate_shows_findings_and_logs_the_run(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        item = screen.table.items[0]
        await pilot.press("v")
        await settle(pilot)
        result = screen.validations[item.id]
        logs = await pilot.app.backend.validation.logs(item_id=item.id)
        assert logs.items[0].id == result.id and result.item_id == item.id


async def test_d_saves_the_attachments(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        item = next(i for i in screen.table.items if i.attachments)
        assert screen.select(item.id)
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        folder = demo_spec.data_dir / "downloads" / f"review-{item.id}"
        saved = {p.name: p.read_bytes() for p in folder.iterdir()}
        expected = await pilot.app.backend.review.download_attachment(item.id, 0)
        assert saved[expected.filename] == expected.content


async def test_the_gaps_view_acknowledges_and_turns_a_finding_into_a_task(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=(120, 40)) as pilot:
        await open_review(pilot)
        await pilot.press("g")
        await settle(pilot)
        gaps = pilot.app.screen
        assert isinstance(gaps, GapsScreen)
        finding = gaps.table.selected
        assert finding is not None and str(finding.status.value) == "open"
        await pilot.press("k")
        await settle(pilot)
        page = await pilot.app.backend.capability_gaps.list_findings(status="acknowledged")
        assert finding.id in [f.id for f in page.items]
        assert gaps.table.select_key(finding.id)
        await pilot.pause()
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(pilot.app.screen, FormModal)
        await pilot.press("ctrl+s")
        await settle(pilot)
        page = await pilot.app.backend.capability_gaps.list_findings(status="acknowledged")
        linked = next(f for f in page.items if f.id == finding.id)
        assert linked.task_id is not None
        task = await pilot.app.backend.tasks.get(linked.task_id)
        assert finding.id in task.description
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReviewScreen)


async def test_the_validation_log_lists_runs_and_validates_the_item_again(demo_spec: LaunchSpec) -> None:
    from crewos_tui.screens.validations import ValidationsScreen

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        item = screen.table.items[0]
        await pilot.press("V")
        await settle(pilot)
        log = pilot.app.screen
        assert isinstance(log, ValidationsScreen) and log.item_id == item.id
        assert log.table.items == []  # the demo validated outputs, not this item
        await pilot.press("i")  # every run the caller can see
        await settle(pilot)
        everything = await pilot.app.backend.validation.logs()
        assert [r.id for r in log.table.items] == [r.id for r in everything.items] and everything.items
        await pilot.press("f")  # only the failed ones
        await settle(pilot)
        assert [r.passed for r in log.table.items] == [False] * len(log.table.items)
        assert {r.id for r in log.table.items} == {r.id for r in everything.items if not r.passed}
        await pilot.press("f", "f", "i", "v")  # back to all runs of this item, then validate it
        await settle(pilot)
        runs = await pilot.app.backend.validation.logs(item_id=item.id)
        assert len(runs.items) == 1 and runs.items[0].source == "review"
        assert [r.id for r in log.table.items] == [runs.items[0].id]
        assert log.table.selected is not None and log.table.selected.id == runs.items[0].id
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReviewScreen)


async def test_enter_opens_a_finding_and_its_keys_act_on_it(demo_spec: LaunchSpec) -> None:
    from crewos_tui.screens.gaps import FindingModal

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await open_review(pilot)
        await pilot.press("g")
        await settle(pilot)
        gaps = pilot.app.screen
        assert isinstance(gaps, GapsScreen)
        finding = gaps.table.selected
        assert finding is not None
        await pilot.press("enter")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, FindingModal) and modal.finding.id == finding.id
        await pilot.press("escape")  # closing changes nothing
        await settle(pilot)
        assert isinstance(pilot.app.screen, GapsScreen)
        page = await pilot.app.backend.capability_gaps.list_findings(status="open")
        assert finding.id in [f.id for f in page.items]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("t")  # a task from the opened finding
        await settle(pilot)
        assert isinstance(pilot.app.screen, FormModal)
        await pilot.press("ctrl+s")
        await settle(pilot)
        page = await pilot.app.backend.capability_gaps.list_findings(status="acknowledged")  # a task acknowledges
        linked = next((f for f in page.items if f.id == finding.id), None)
        assert linked is not None and linked.task_id is not None
        assert gaps.table.select_key(finding.id)
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("x")  # resolved, from the opened finding
        await settle(pilot)
        page = await pilot.app.backend.capability_gaps.list_findings(status="resolved")
        assert finding.id in [f.id for f in page.items]


def test_messages_are_built_from_words() -> None:
    """"Rejected 2 items", never "Rejectd": each decision has its own past-tense word."""
    from crewos_tui.screens.review_held import DONE, VERB
    from crewos_tui.widgets.format import count

    assert set(DONE) == set(VERB)
    assert [f"{DONE[a]} {count(2, 'item')}" for a in ("approve", "reject", "quarantine", "release")] == [
        "Approved 2 items", "Rejected 2 items", "Quarantined 2 items", "Released 2 items"]
    assert (count(1, "item"), count(0, "item"), count(1_200, "entry", "entries")) == (
        "1 item", "0 items", "1,200 entries")
