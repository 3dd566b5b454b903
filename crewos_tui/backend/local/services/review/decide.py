"""Review decisions: approve, reject, quarantine, and all-or-nothing batches.

Every decision goes through ``_decide``: permission (``access``), the state machine
(``states``), a ``review_decisions`` row, the item's new state, and one domain event
naming the submitter and the requested reviewers, all in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ....errors import Conflict, CrewOSError, Invalid
from ....principal import Principal
from ....schemas import (
    ReviewBatch,
    ReviewBatchItemResult,
    ReviewBatchResult,
    ReviewItem,
)
from ....schemas.review import ReviewAction, ReviewState
from ...context import ServiceContext
from ...tables import ReviewDecisionRow, ReviewItemRow
from .access import check_may_decide, load_item
from .states import PAST, next_state

MAX_REASON = 2000
#: How many per-item reasons a refused batch spells out (the rest are counted).
MAX_REASONS_SHOWN = 20


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid(f"the reason is longer than {MAX_REASON} characters")
    return reason


def batch_refused(failures: list[tuple[str, CrewOSError]], total: int) -> CrewOSError:
    """The error for a batch with decisions that cannot be applied (nothing was applied).

    One kind of failure keeps its own class (every item unknown → 404, every decision
    forbidden → 403); a mix is a 409. The message names each bad item and why.
    """
    shown = "; ".join(f"{item_id}: {err.detail}" for item_id, err in failures[:MAX_REASONS_SHOWN])
    more = f" (and {len(failures) - MAX_REASONS_SHOWN} more)" if len(failures) > MAX_REASONS_SHOWN else ""
    message = (f"batch refused, nothing applied: {len(failures)} of {total} decisions cannot be applied — "
               f"{shown}{more}")
    kinds = {type(err) for _, err in failures}
    cls = next(iter(kinds)) if len(kinds) == 1 else Conflict
    return cls(message)


class ReviewDecisions:
    ctx: ServiceContext

    async def _decide(
        self, s: AsyncSession, principal: Principal, item: ReviewItemRow, action: str, reason: str,
        now: datetime, batch_id: str | None = None,
    ) -> ReviewBatchItemResult:
        await check_may_decide(s, principal, item, action)
        before = item.state
        after = next_state(before, action, reason)
        s.add(ReviewDecisionRow(id=self.ctx.ids.new(), item_id=item.id, action=action, from_state=before,
                                to_state=after, actor_id=principal.user_id, actor=principal.username,
                                reason=reason, batch_id=batch_id, created_at=now))
        item.state, item.updated_at = after, now
        item.decided_at, item.decided_by_id, item.decided_by = now, principal.user_id, principal.username
        item.decision_reason = reason
        await self.ctx.events.emit(
            s, principal, f"review.{PAST[action]}", "review_item", item.id, item.project_id,
            title=item.title, action=action, from_state=before, to_state=after, reason=reason, batch_id=batch_id,
            submitter_id=item.submitter_id, requested_reviewer_ids=list(item.requested_reviewer_ids or []),
        )
        return ReviewBatchItemResult(item_id=item.id, title=item.title, action=ReviewAction(action),
                                     from_state=ReviewState(before), to_state=ReviewState(after), reason=reason)

    async def _decide_one(self, principal: Principal, item_id: str, action: str, reason: str) -> ReviewItem:
        reason = _clean_reason(reason)
        async with self.ctx.db.transaction() as s:
            item = await load_item(s, principal, item_id)
            await self._decide(s, principal, item, action, reason, self.ctx.clock.now())
        return await self.get(principal, item_id)  # type: ignore[attr-defined]

    async def approve(self, principal: Principal, item_id: str, reason: str = "") -> ReviewItem:
        return await self._decide_one(principal, item_id, "approve", reason)

    async def reject(self, principal: Principal, item_id: str, reason: str = "") -> ReviewItem:
        return await self._decide_one(principal, item_id, "reject", reason)

    async def quarantine(self, principal: Principal, item_id: str, reason: str = "") -> ReviewItem:
        return await self._decide_one(principal, item_id, "quarantine", reason)

    async def decide_batch(self, principal: Principal, data: ReviewBatch) -> ReviewBatchResult:
        """Apply every decision or none: one bad item refuses the whole batch, naming each problem."""
        batch_id = self.ctx.ids.new()
        now = self.ctx.clock.now()
        failures: list[tuple[str, CrewOSError]] = []
        results: list[ReviewBatchItemResult] = []
        seen: set[str] = set()
        submitters: set[str] = set()
        async with self.ctx.db.transaction() as s:
            for d in data.decisions:
                if d.item_id in seen:
                    failures.append((d.item_id, Invalid("listed more than once in the batch")))
                    continue
                seen.add(d.item_id)
                try:
                    reason = _clean_reason(d.reason)
                    item = await load_item(s, principal, d.item_id)
                    if item.submitter_id:
                        submitters.add(item.submitter_id)
                    results.append(await self._decide(s, principal, item, d.action.value, reason, now, batch_id))
                except CrewOSError as exc:
                    failures.append((d.item_id, exc))
            if failures:
                raise batch_refused(failures, len(data.decisions))  # rolls everything back
            counts = Counter(r.action.value for r in results)
            await self.ctx.events.emit(
                s, principal, "review.batch_decided", "review_batch", batch_id, None,
                item_ids=[r.item_id for r in results], actions=dict(sorted(counts.items())),
                submitter_ids=sorted(submitters),
            )
        return ReviewBatchResult(batch_id=batch_id, actor_id=principal.user_id, actor=principal.username,
                                 decided_at=now, results=results)
