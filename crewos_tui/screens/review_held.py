"""The review decisions held in their undo window, and those being sent: one store per app.

The store belongs to the app, not to the review screen, so that every way out can send
what it holds (``held_work.py``): leaving the screen, quitting, a signal, and the app's
own shutdown after the screens are gone. A decision is sent by an asyncio task of the
store's, not by a screen worker: Textual cancels the workers when the app exits, and a
send cancelled halfway is a decision lost. The review screen draws what the store
holds and hears from it when a send starts or ends (``ReviewListener``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..app import CrewOSApp
    from ..backend.schemas import ReviewItem

VERB = {"approve": "Approve", "reject": "Reject", "quarantine": "Quarantine", "release": "Release"}
PAST = {"approve": "approved", "reject": "rejected", "quarantine": "quarantined", "release": "pending"}
#: What a receipt or a toast says was done (the word, not VERB + "d").
DONE = {"approve": "Approved", "reject": "Rejected", "quarantine": "Quarantined", "release": "Released"}


@dataclass
class PendingDecision:
    item: ReviewItem
    action: str
    reason: str
    due: float  # review_actions.clock() when it is sent
    timer: Any = None

    def what(self) -> str:
        """``approve of "Weekly update"``: the item named, for messages."""
        return f'{self.action} of "{self.item.title}"'


class ReviewListener(Protocol):
    """The review screen, while it is mounted."""

    def decision_sending(self, decision: PendingDecision) -> None: ...
    def decision_sent(self, decision: PendingDecision, error: BaseException | None) -> None: ...


class HeldDecisions:
    """Decisions waiting out their undo window (``pending``) and being sent (``sending``),
    newest last."""

    def __init__(self, app: CrewOSApp) -> None:
        self.app = app
        self.pending: dict[str, PendingDecision] = {}
        self.sending: dict[str, tuple[PendingDecision, asyncio.Task[BaseException | None]]] = {}
        self.listener: ReviewListener | None = None

    @classmethod
    def of(cls, app: CrewOSApp) -> HeldDecisions:
        """The app's store, made and registered with the app on first use."""
        held: HeldDecisions | None = getattr(app, "held_decisions", None)
        if held is None:
            held = cls(app)
            app.held_decisions = held  # type: ignore[attr-defined]
            app.hold(held)
        return held

    # ---- holding -----------------------------------------------------------------------

    def hold(self, decision: PendingDecision, grace: float) -> None:
        """Keep ``decision`` for ``grace`` seconds, then send it."""
        item_id = decision.item.id
        decision.timer = self.app.set_timer(grace, lambda: self.send(item_id), name="review-grace")
        self.pending[item_id] = decision

    def take_back(self) -> PendingDecision | None:
        """Undo: the newest decision not sent yet, which then is never sent."""
        if not self.pending:
            return None
        decision = self.pending.pop(next(reversed(self.pending)))
        if decision.timer is not None:
            decision.timer.stop()
        return decision

    # ---- sending -----------------------------------------------------------------------

    def send(self, item_id: str) -> None:
        """Send the held decision on ``item_id`` now (its window closed, or a way out)."""
        decision = self.pending.pop(item_id, None)
        if decision is None:  # undone, or sent already
            return
        if decision.timer is not None:
            decision.timer.stop()
        task = asyncio.get_running_loop().create_task(self._send(decision), name=f"review-send-{item_id}")
        self.sending[item_id] = (decision, task)
        task.add_done_callback(lambda t: self._sent(decision, t))
        if self.listener is not None:
            self.listener.decision_sending(decision)

    def send_all(self) -> None:
        for item_id in list(self.pending):
            self.send(item_id)

    async def _send(self, decision: PendingDecision) -> BaseException | None:
        """The backend call; the failure is returned, not raised (the listener and
        ``flush`` report it)."""
        try:
            backend = self.app.backend
            if backend is None:
                from ..backend.errors import Unavailable

                raise Unavailable("not connected to the backend")
            review, item_id = backend.review, decision.item.id
            if decision.action == "release":
                from ..backend.schemas import ReviewAction, ReviewBatch, ReviewBatchDecision

                await review.decide_batch(ReviewBatch(decisions=[ReviewBatchDecision(
                    item_id=item_id, action=ReviewAction.release, reason=decision.reason)]))
            else:
                await getattr(review, decision.action)(item_id, decision.reason)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, by the screen or on the way out
            return exc
        return None

    def _sent(self, decision: PendingDecision, task: asyncio.Task[BaseException | None]) -> None:
        self.sending.pop(decision.item.id, None)
        error: BaseException | None = asyncio.CancelledError() if task.cancelled() else task.result()
        if self.listener is not None:
            self.listener.decision_sent(decision, error)

    # ---- HeldWork: the ways out ------------------------------------------------------------

    def held_count(self) -> int:
        return len(self.pending) + len(self.sending)

    async def flush(self, within: float) -> list[str]:
        """Send every held decision now and wait for all sends, at most ``within`` seconds;
        a line per decision that was not recorded (or may not have been)."""
        from ..widgets.format import error_text

        self.send_all()
        if not self.sending:
            return []
        tasks = {task: decision for decision, task in self.sending.values()}
        done, _late = await asyncio.wait(tasks, timeout=within)
        lines: list[str] = []
        for task, decision in tasks.items():
            if task not in done:
                lines.append(f"{decision.what()}: no answer within {within:g} s; it may or may not be recorded")
            elif task.cancelled():
                lines.append(f"{decision.what()}: the send was cut off; check the item")
            elif (error := task.result()) is not None:
                lines.append(f"{decision.what()}: {error_text(error)}")
        return lines
