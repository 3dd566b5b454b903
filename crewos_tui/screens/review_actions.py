"""The decisions of the review screen: one key per decision with an undo window,
marks and batches decisions with a receipt, validation and attachment downloads.

A single decision is *pending* for ``GRACE_SECONDS``: its row shows ``»appr`` and the
cursor has already moved on. ``u`` takes back the newest pending decision (and goes
back to its item); otherwise a timer sends it. The decisions are held by the app
(``review_held.HeldDecisions``), not by this screen: leaving the screen, quitting and
a signal send them first (``held_work.py``). A send that fails is reported and the
row returns to what the server says. Batches are sent at once, after a confirmation.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from ..widgets.confirm import ConfirmModal
from ..widgets.format import count
from ..widgets.review_modals import (
    QUARANTINE_REASONS,
    REJECT_REASONS,
    ReasonModal,
    ReceiptModal,
)
from ..widgets.typed_confirm import TypedConfirmModal
from ..widgets.workers import work
from .review_held import DONE, PAST, VERB, HeldDecisions, PendingDecision
from .screen_half import ScreenHalf

if TYPE_CHECKING:
    from ..app import CrewOSApp
    from ..backend.schemas import ReviewBatchResult, ReviewItem


def undo_seconds() -> float:
    """The undo window: CREWOS_TUI_REVIEW_UNDO seconds (0 to 3600; 0 sends at once), default 3."""
    try:
        seconds = float(os.environ.get("CREWOS_TUI_REVIEW_UNDO", "3"))
    except ValueError:
        return 3.0
    return min(3600.0, max(0.0, seconds)) if seconds == seconds else 3.0  # NaN is not a number of seconds


#: Seconds a decision waits before it is sent (``u`` undoes it meanwhile).
GRACE_SECONDS = undo_seconds()
#: Batches larger than this need the count typed, not just ``y``.
TYPE_TO_CONFIRM_ABOVE = 10
#: Which decisions each state allows (mirrors the service's state machine for the UI's
#: hints; the backend's answer is what counts).
ALLOWED = {"pending": {"approve", "reject", "quarantine"}, "quarantined": {"reject", "release"}}
__all__ = ["ALLOWED", "GRACE_SECONDS", "PAST", "VERB", "PendingDecision", "ReviewActions", "clock"]


def clock() -> float:
    """Seconds on a monotonic clock (the undo countdown; snapshot tests pin it)."""
    return time.monotonic()


class ReviewActions(ScreenHalf):
    # Provided by ReviewScreen; declared for the type checker.
    items: dict[str, ReviewItem]
    decided: dict[str, str]
    marked: set[str]
    validations: dict[str, Any]
    details: dict[str, Any]

    if TYPE_CHECKING:  # properties of the screen
        @property
        def app(self) -> CrewOSApp: ...
        @property
        def current(self) -> ReviewItem | None: ...

        # methods of the screen
        def row_ids(self) -> list[str]: ...
        def open_ids(self) -> list[str]: ...
        def refresh_row(self, item_id: str) -> None: ...
        def show_header(self) -> None: ...
        def select(self, item_id: str) -> bool: ...

    # ---- the app's held decisions ---------------------------------------------------------

    @property
    def held(self) -> HeldDecisions:
        return HeldDecisions.of(self.crewos)

    @property
    def pending(self) -> dict[str, PendingDecision]:
        """Decisions in their undo window, by item id, newest last."""
        return self.held.pending

    @property
    def sending(self) -> dict[str, Any]:
        """Decisions being sent, by item id."""
        return self.held.sending

    def listen_to_held(self) -> None:
        """On mount: draw what the store does (sends started by its timers, or on the way out)."""
        self.held.listener = self

    def stop_listening(self) -> None:
        if self.held.listener is self:
            self.held.listener = None

    # ---- single decisions with undo ----------------------------------------------------

    def _state_of(self, item: ReviewItem) -> str:
        return self.decided.get(item.id) or str(getattr(item.state, "value", item.state))

    def action_decide(self, action: str) -> None:
        item = self.current
        if item is None:
            self.crewos.say("Nothing to decide: the queue is clear.", severity="warning")
            return
        if item.id in self.pending or item.id in self.sending:
            self.crewos.say("That item is already decided (u undoes it).", severity="warning")
            return
        state = self._state_of(item)
        if action not in ALLOWED.get(state, set()):
            allowed = ", ".join(sorted(ALLOWED.get(state, set()))) or "nothing: it is decided"
            self.crewos.say(f"A {state} item cannot be {PAST[action]} (allowed: {allowed}).", severity="warning")
            return
        # The item says what the caller may do (its role, its own submission): refuse at once,
        # not after the undo window when the server would.
        refusals = {} if item.id in self.decided else {str(act): why for act, why in item.refusals.items()}
        refused = refusals.get(action, "")
        if refused:
            self.crewos.say(f"Refused: {refused}.", severity="warning")
            return
        if action in ("reject", "quarantine"):
            reasons = REJECT_REASONS if action == "reject" else QUARANTINE_REASONS
            self.app.push_screen(ReasonModal(f"{VERB[action]}: {item.title}", reasons),
                                 lambda reason: self.queue_decision(item, action, reason) if reason else None)
            return
        self.queue_decision(item, action, "")

    def queue_decision(self, item: ReviewItem, action: str, reason: str) -> None:
        """Record the decision locally, move on, and send it when the undo window closes."""
        self.held.hold(PendingDecision(item, action, reason, clock() + GRACE_SECONDS), GRACE_SECONDS)
        self.marked.discard(item.id)
        self.refresh_row(item.id)
        self.advance_from(item.id)  # type: ignore[attr-defined]
        self.show_header()

    def action_undo(self) -> None:
        decision = self.held.take_back()
        if decision is None:
            self.crewos.say("Nothing to undo: decisions already sent cannot be taken back here.",
                            severity="warning")
            return
        item_id = decision.item.id
        self.refresh_row(item_id)
        self.select(item_id)
        self.show_current()  # type: ignore[attr-defined]
        self.show_header()
        self.crewos.say(f"Undone: {decision.action} of {decision.item.title}")

    def undo_text(self) -> Text:
        """What ``u`` would take back, and when it will be sent otherwise."""
        newest = self.pending[next(reversed(self.pending))]
        more = f" (+{len(self.pending) - 1})" if len(self.pending) > 1 else ""
        left = max(0.0, newest.due - clock())
        return Text.assemble(("u", "bold reverse"), f" undoes {decision_text(newest)}{more}, sent in {left:.0f}s")

    def flush_pending(self) -> None:
        """Send every decision still waiting, now (leaving the screen must not lose them)."""
        self.held.send_all()

    def on_screen_suspend(self) -> None:
        from textual.screen import ModalScreen

        # A dialog on top (the reason prompt, help) keeps the undo window open;
        # leaving for another screen sends what waits.
        if not isinstance(self.app.screen, ModalScreen):
            self.flush_pending()

    def decision_sending(self, decision: PendingDecision) -> None:
        self.show_header()

    def decision_sent(self, decision: PendingDecision, error: BaseException | None) -> None:
        """A send ended: a failure is reported and the row shows the server's state again."""
        item_id = decision.item.id
        if error is not None:
            from ..widgets.format import error_text

            self.crewos.say(f"{VERB[decision.action]} of {decision.item.title} failed: {error_text(error)}",
                            severity="error")
        else:
            self.decided[item_id] = PAST[decision.action]
            self.details.pop(item_id, None)  # its history changed
        if not self.is_attached:  # type: ignore[attr-defined]
            return
        self.refresh_row(item_id)
        if self.current is not None and self.current.id == item_id:
            self.show_current()  # type: ignore[attr-defined]
        self.show_header()
        self.stats_soon()  # type: ignore[attr-defined]

    # ---- marks and batches ---------------------------------------------------------------

    def action_mark(self) -> None:
        item = self.current
        if item is None:
            return
        if item.id in self.pending or item.id in self.decided:
            self.crewos.say("That item is decided already.", severity="warning")
            return
        if item.id in self.marked:
            self.marked.discard(item.id)
        else:
            self.marked.add(item.id)
        self.refresh_row(item.id)  # type: ignore[attr-defined]
        self.show_header()  # type: ignore[attr-defined]
        ids = self.row_ids()  # type: ignore[attr-defined]
        i = ids.index(item.id)
        if i + 1 < len(ids):
            self.select(ids[i + 1])  # type: ignore[attr-defined]

    def action_mark_all(self) -> None:
        waiting = self.open_ids()  # type: ignore[attr-defined]
        if self.marked and set(waiting) <= self.marked:
            cleared, self.marked = list(self.marked), set()
            for item_id in cleared:
                self.refresh_row(item_id)  # type: ignore[attr-defined]
        else:
            self.marked |= set(waiting)
            for item_id in waiting:
                self.refresh_row(item_id)  # type: ignore[attr-defined]
        self.show_header()  # type: ignore[attr-defined]

    def marked_items(self) -> list[ReviewItem]:
        """Marked items still waiting, in table order."""
        return [self.items[i] for i in self.row_ids() if i in self.marked  # type: ignore[attr-defined]
                and i not in self.pending and i not in self.decided]

    def action_decide_marked(self, action: str) -> None:
        items = self.marked_items()
        if not items:
            self.crewos.say("Mark items with space first (M marks every loaded one).", severity="warning")
            return
        if action == "reject":
            self.app.push_screen(ReasonModal(f"Reject {len(items)} marked items", REJECT_REASONS,
                                             note="One reason for all of them."),
                                 lambda reason: self._confirm_batch(items, action, reason) if reason else None)
        else:
            self._confirm_batch(items, action, "")

    def _confirm_batch(self, items: list[ReviewItem], action: str, reason: str) -> None:
        count = len(items)
        titles = "\n".join(f"- {i.title}" for i in items[:5]) + (f"\n… and {count - 5} more" if count > 5 else "")
        title = f"{VERB[action]} {count} marked item{'s' if count != 1 else ''}?"
        message = Text(f"{titles}\n\nAll or nothing: if one cannot be {PAST[action]}, none is."
                       + (f"\nReason: {reason}" if reason else ""))

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_batch([i.id for i in items], action, reason)

        if count > TYPE_TO_CONFIRM_ABOVE:
            self.app.push_screen(TypedConfirmModal(title, message, str(count), yes=VERB[action],
                                                   what="the number of items"), answered)
        else:
            self.app.push_screen(ConfirmModal(title, message, yes=VERB[action]), answered)

    @work(exclusive=True, group="review-batch", exit_on_error=False)
    async def run_batch(self, item_ids: list[str], action: str, reason: str) -> None:
        from ..backend.schemas import ReviewAction, ReviewBatch, ReviewBatchDecision

        result = await self.backend.review.decide_batch(ReviewBatch(decisions=[
            ReviewBatchDecision(item_id=i, action=ReviewAction(action), reason=reason) for i in item_ids]))
        for r in result.results:
            self.decided[r.item_id] = str(getattr(r.to_state, "value", r.to_state))
            self.marked.discard(r.item_id)
            self.details.pop(r.item_id, None)
            self.refresh_row(r.item_id)  # type: ignore[attr-defined]
        self.show_header()  # type: ignore[attr-defined]
        self.stats_soon()  # type: ignore[attr-defined]
        if self.current is not None:
            self.advance_from(self.current.id)  # type: ignore[attr-defined]
        # Said by the receipt itself, as its title: a toast here covered the receipt's path.
        self.show_receipt(result, f"{DONE[action]} {count(len(result.results), 'item')} (batch {result.batch_id}).")

    def show_receipt(self, result: ReviewBatchResult, outcome: str = "") -> None:
        from .. import paths

        spec = self.crewos.spec
        base = (spec.data_dir or paths.data_dir()) / "receipts" / f"review-batch-{result.batch_id}"
        server = spec.url if spec.mode == "remote" and spec.url else f"local ({spec.profile})"
        self.app.push_screen(ReceiptModal(result, server, base, outcome))

    # ---- validation and attachments ------------------------------------------------------

    @work(group="review-validate", exit_on_error=False)
    async def action_validate(self) -> None:
        from ..backend.schemas import ValidationRequest

        item = self.current
        if item is None:
            return
        result = await self.backend.validation.validate(ValidationRequest(item_id=item.id, label="review screen"))
        self.validations[item.id] = result
        verdict = "passed" if result.passed else "failed"
        self.crewos.say(f"Validation of {item.title}: {result.score}/100, {verdict}.",
                        severity="information" if result.passed else "warning")
        if self.current is not None and self.current.id == item.id:
            self.show_current(keep_scroll=True)  # type: ignore[attr-defined]

    @work(group="review-download", exit_on_error=False)
    async def action_download(self) -> None:
        from .. import paths

        item = self.current
        if item is None or not item.attachments:
            self.crewos.say("This item has no attachments.", severity="warning")
            return
        data = paths.private_dir(self.crewos.spec.data_dir or paths.data_dir())
        folder = paths.private_dir(paths.private_dir(data / "downloads") / f"review-{item.id}")
        for a in item.attachments:
            got = await self.backend.review.download_attachment(item.id, a.index)
            name = Path(got.filename.replace("\\", "/")).name or f"attachment-{a.index}"
            (folder / name).write_bytes(got.content)
        self.crewos.say(f"Saved {len(item.attachments)} attachment(s) to {folder}")


def decision_text(d: PendingDecision) -> str:
    reason = f" ({d.reason})" if d.reason else ""
    return f"{d.action} {d.item.title}{reason}"
