"""Batch review decisions on both backends: all or nothing, with per-item results or reasons."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import ReviewBatch, ReviewBatchDecision

from .review_support import review_team

UNKNOWN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def batch(*decisions: tuple[str, str, str]) -> ReviewBatch:
    return ReviewBatch(decisions=[ReviewBatchDecision(item_id=i, action=a, reason=r) for i, a, r in decisions])


async def states(b, ids):
    return [(await b.review.get(i)).state for i in ids]


async def test_a_batch_applies_every_decision_with_per_item_results(world):
    t = await review_team(world)
    items = [await t.submit(f"b{i}") for i in range(4)]
    result = await t.reviewer_b.review.decide_batch(batch(
        (items[0].id, "approve", ""), (items[1].id, "reject", "duplicate"),
        (items[2].id, "quarantine", "leaks a key"), (items[3].id, "approve", "fine")))
    assert result.actor == t.reviewer.username and result.actor_id == t.reviewer.id and result.batch_id
    assert [(r.item_id, r.action, r.from_state, r.to_state, r.reason) for r in result.results] == [
        (items[0].id, "approve", "pending", "approved", ""),
        (items[1].id, "reject", "pending", "rejected", "duplicate"),
        (items[2].id, "quarantine", "pending", "quarantined", "leaks a key"),
        (items[3].id, "approve", "pending", "approved", "fine")]
    assert await states(t.reviewer_b, [i.id for i in items]) == ["approved", "rejected", "quarantined", "approved"]
    history = (await t.reviewer_b.review.get(items[1].id)).history
    assert history[0].batch_id == result.batch_id


async def test_release_returns_a_quarantined_item_to_the_queue(world):
    t = await review_team(world)
    item = await t.submit()
    await t.reviewer_b.review.quarantine(item.id, "suspicious")
    result = await t.reviewer_b.review.decide_batch(batch((item.id, "release", "checked: harmless")))
    assert (result.results[0].from_state, result.results[0].to_state) == ("quarantined", "pending")
    with pytest.raises(errors.Conflict, match=r"cannot release an item that is pending \(allowed: approve"):
        await t.reviewer_b.review.decide_batch(batch((item.id, "release", "")))
    assert (await t.reviewer_b.review.approve(item.id)).state == "approved"


async def test_one_bad_item_refuses_the_whole_batch(world):
    t = await review_team(world)
    good = [await t.submit(f"g{i}") for i in range(3)]
    done = await t.submit("already")
    await t.reviewer_b.review.approve(done.id)
    with pytest.raises(errors.Conflict) as refused:
        await t.reviewer_b.review.decide_batch(batch(
            (good[0].id, "approve", ""), (good[1].id, "reject", "no"), (UNKNOWN, "approve", ""),
            (done.id, "reject", ""), (good[2].id, "approve", "")))
    message = str(refused.value)
    assert "nothing applied" in message and "2 of 5" in message
    assert UNKNOWN in message and "not found" in message
    assert done.id in message and "already approved" in message
    assert good[0].id not in message  # only the bad items are named
    assert await states(t.reviewer_b, [g.id for g in good]) == ["pending"] * 3
    history = (await t.reviewer_b.review.get(good[1].id)).history
    assert history == []


async def test_batch_refusals_keep_the_status_of_a_single_kind_of_failure(world):
    t = await review_team(world)
    item = await t.submit()
    with pytest.raises(errors.NotFound):
        await t.reviewer_b.review.decide_batch(batch((UNKNOWN, "approve", ""), ("also-unknown", "reject", "")))
    with pytest.raises(errors.Forbidden, match="someone else"):
        await t.owner_b.review.decide_batch(batch((item.id, "approve", "")))
    with pytest.raises(errors.Invalid, match="more than once"):
        await t.reviewer_b.review.decide_batch(batch((item.id, "approve", ""), (item.id, "reject", "")))
    with pytest.raises(errors.Invalid, match="reason"):
        await t.reviewer_b.review.decide_batch(batch((item.id, "quarantine", "")))
    assert (await t.reviewer_b.review.get(item.id)).state == "pending"


async def test_batch_shape_is_checked(world):
    with pytest.raises(ValidationError):
        ReviewBatch(decisions=[])
    with pytest.raises(ValidationError):
        ReviewBatch(decisions=[ReviewBatchDecision(item_id="x", action="approve")] * 501)
    with pytest.raises(ValidationError):
        ReviewBatchDecision(item_id="x", action="delete")
