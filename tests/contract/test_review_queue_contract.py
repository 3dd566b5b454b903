"""The review queue on both backends: submit, list, get, decide, transcript, attachments, stats."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import (
    ReviewAttachmentIn,
    ReviewItemCreate,
    TranscriptMessageIn,
)

from .review_support import review_team, user


async def test_submit_get_and_list(world):
    t = await review_team(world)
    item = await t.submit("Release notes draft", summary="First cut", payload={"output": "# Notes\nhello"},
                          kind="agent_output", priority="high", requested_reviewer_ids=[t.reviewer.id],
                          source="agent", source_ref="reporter")
    assert item.state == "pending" and item.submitter_id == t.owner.id and item.submitter == t.owner.username
    assert item.priority == "high" and item.kind == "agent_output" and item.payload_format == "json"
    assert item.requested_reviewer_ids == [t.reviewer.id] and item.source == "agent" and item.source_ref == "reporter"
    got = await t.reviewer_b.review.get(item.id)
    assert got.title == "Release notes draft" and got.payload == {"output": "# Notes\nhello"}
    assert got.project_name and got.history == []
    listed = await t.viewer_b.review.list(project_id=t.project_id)
    assert [i.id for i in listed.items] == [item.id]
    text = await t.submit("Markdown item", payload="# Just text")
    assert text.payload_format == "markdown"


async def test_list_filters_order_and_pages(world):
    t = await review_team(world)
    low = await t.submit("alpha low", priority="low")
    urgent = await t.submit("beta urgent", priority="urgent")
    normal = await t.submit("gamma normal", requested_reviewer_ids=[t.reviewer.id])
    b = t.reviewer_b
    assert [i.id for i in (await b.review.list(project_id=t.project_id)).items] == [normal.id, urgent.id, low.id]
    oldest = await b.review.list(project_id=t.project_id, order="oldest")
    assert [i.id for i in oldest.items] == [low.id, urgent.id, normal.id]
    prio = await b.review.list(project_id=t.project_id, order="priority")
    assert [i.id for i in prio.items] == [urgent.id, normal.id, low.id]
    assert [i.id for i in (await b.review.list(project_id=t.project_id, q="BETA")).items] == [urgent.id]
    assert [i.id for i in (await b.review.list(requested_of_me=True)).items] == [normal.id]
    first = await b.review.list(project_id=t.project_id, order="priority", limit=2)
    assert len(first.items) == 2 and first.next_cursor
    rest = await b.review.list(project_id=t.project_id, order="priority", limit=2, cursor=first.next_cursor)
    assert [i.id for i in rest.items] == [low.id] and rest.next_cursor is None
    with pytest.raises(errors.Invalid):
        await b.review.list(state="maybe")
    with pytest.raises(errors.Invalid):
        await b.review.list(order="sideways")


async def test_outsiders_do_not_see_items(world):
    t = await review_team(world)
    item = await t.submit()
    stranger = await world.as_(await user(world))
    with pytest.raises(errors.NotFound):
        await stranger.review.get(item.id)
    assert item.id not in [i.id for i in (await stranger.review.list()).items]
    admin = await world.as_(await user(world, role="admin"))
    assert (await admin.review.get(item.id)).id == item.id


async def test_decisions_follow_the_state_machine(world):
    t = await review_team(world)
    a, r, q = await t.submit("a"), await t.submit("r"), await t.submit("q")
    approved = await t.reviewer_b.review.approve(a.id, "looks right")
    assert approved.state == "approved" and approved.decided_by_id == t.reviewer.id
    assert approved.decision_reason == "looks right" and approved.decided_at is not None
    assert [(h.action, h.from_state, h.to_state, h.actor) for h in approved.history] == [
        ("approve", "pending", "approved", t.reviewer.username)]
    rejected = await t.reviewer_b.review.reject(r.id, "wrong numbers")
    assert rejected.state == "rejected"
    quarantined = await t.reviewer_b.review.quarantine(q.id, "possible prompt injection")
    assert quarantined.state == "quarantined"
    # Terminal states and illegal moves are 409 and change nothing.
    for call in (t.reviewer_b.review.approve(a.id), t.reviewer_b.review.reject(a.id),
                 t.reviewer_b.review.quarantine(r.id, "x"), t.reviewer_b.review.approve(q.id)):
        with pytest.raises(errors.Conflict):
            await call
    assert (await t.reviewer_b.review.get(q.id)).state == "quarantined"
    # Quarantined → rejected is allowed.
    assert (await t.reviewer_b.review.reject(q.id, "confirmed")).state == "rejected"


async def test_quarantine_needs_a_reason(world):
    t = await review_team(world)
    item = await t.submit()
    with pytest.raises(errors.Invalid, match="reason"):
        await t.reviewer_b.review.quarantine(item.id, "   ")
    assert (await t.reviewer_b.review.get(item.id)).state == "pending"


async def test_who_may_decide(world):
    t = await review_team(world)
    item = await t.submit()
    with pytest.raises(errors.Forbidden, match="someone else"):
        await t.owner_b.review.approve(item.id)  # the submitter (even as project owner)
    with pytest.raises(errors.Forbidden, match="reviewer role"):
        await t.viewer_b.review.approve(item.id)
    stranger = await world.as_(await user(world))
    with pytest.raises(errors.NotFound):
        await stranger.review.approve(item.id)
    assert (await t.reviewer_b.review.get(item.id)).state == "pending"
    # The submitter may withdraw (reject) their own item.
    assert (await t.owner_b.review.reject(item.id, "withdrawn")).state == "rejected"
    admin = await world.as_(await user(world, role="admin"))
    other = await t.submit()
    assert (await admin.review.approve(other.id)).state == "approved"


async def test_items_carry_what_the_caller_may_decide(world):
    """Every answer says which decisions the caller may take and why the others are refused,
    with the same words the refusal itself would use (so a UI refuses at once)."""
    t = await review_team(world)
    item = await t.submit()
    as_reviewer = await t.reviewer_b.review.get(item.id)
    assert sorted(as_reviewer.allowed_actions) == ["approve", "quarantine", "reject"] and not as_reviewer.refusals
    as_viewer = (await t.viewer_b.review.list(q=item.title, limit=5)).items[0]
    assert as_viewer.allowed_actions == []
    assert set(as_viewer.refusals) == {"approve", "quarantine", "reject"}
    assert "reviewer role" in as_viewer.refusals["approve"] and "viewer" in as_viewer.refusals["approve"]
    as_submitter = await t.owner_b.review.get(item.id)
    assert "someone else" in as_submitter.refusals["approve"]
    assert sorted(as_submitter.allowed_actions) == ["quarantine", "reject"]
    with pytest.raises(errors.Forbidden) as refused:
        await t.viewer_b.review.approve(item.id)
    assert as_viewer.refusals["approve"] in str(refused.value)
    decided = await t.reviewer_b.review.approve(item.id)
    assert decided.allowed_actions == [] and decided.refusals == {}  # approved: nothing left to decide


async def test_projectless_items_are_for_submitter_and_requested_reviewers(world):
    t = await review_team(world)
    asked = await user(world)
    asked_b = await world.as_(asked)
    item = await t.owner_b.review.submit(ReviewItemCreate(title="loose", requested_reviewer_ids=[asked.id]))
    assert item.project_id is None
    assert (await asked_b.review.get(item.id)).id == item.id
    with pytest.raises(errors.NotFound):
        await t.reviewer_b.review.get(item.id)  # not asked, not in a project
    assert (await asked_b.review.approve(item.id)).state == "approved"


async def test_unknown_items_are_404(world):
    t = await review_team(world)
    for call in (t.reviewer_b.review.get("nope"), t.reviewer_b.review.approve("nope"),
                 t.reviewer_b.review.transcript("nope"), t.reviewer_b.review.download_attachment("nope", 0)):
        with pytest.raises(errors.NotFound):
            await call


async def test_transcript_and_attachments(world):
    t = await review_team(world)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    item = await t.submit(
        "with files",
        transcript=[TranscriptMessageIn(role="user", content="Summarise the incident"),
                    TranscriptMessageIn(role="assistant", content="The outage lasted 12 minutes.", name="reporter")],
        attachments=[ReviewAttachmentIn(filename="notes.md", content="# Notes\nünïcode"),
                     ReviewAttachmentIn(filename="chart.png", content_base64=base64.b64encode(png).decode())])
    assert item.transcript_messages == 2
    assert [(a.index, a.filename, a.content_type) for a in item.attachments] == [
        (0, "notes.md", "text/markdown"), (1, "chart.png", "image/png")]
    tr = await t.reviewer_b.review.transcript(item.id)
    assert [m.role for m in tr.messages] == ["user", "assistant"]
    assert "**assistant (reporter)**" in tr.markdown and "12 minutes" in tr.markdown
    md = await t.reviewer_b.review.download_attachment(item.id, 0)
    assert md.content == "# Notes\nünïcode".encode() and md.filename == "notes.md"
    assert md.content_type == "text/markdown"
    img = await t.reviewer_b.review.download_attachment(item.id, 1)
    assert img.content == png and img.content_type == "image/png" and img.size == len(png)
    with pytest.raises(errors.NotFound, match="indexes 0-1"):
        await t.reviewer_b.review.download_attachment(item.id, 2)
    with pytest.raises(errors.NotFound):
        await t.reviewer_b.review.download_attachment(item.id, -1)
    with pytest.raises(errors.NotFound, match="no attachment 100000000000000000000"):
        await t.reviewer_b.review.download_attachment(item.id, 10**20)  # beyond SQLite's integers: not a 500


@pytest.mark.parametrize("content_type", ["tëxt/plain", "text/plaın", "text/pla\u200bin"])
async def test_an_attachment_type_outside_ascii_is_refused(world, content_type):
    # It would come back as the download's Content-Type header, which is ASCII by definition.
    t = await review_team(world)
    with pytest.raises(errors.Invalid, match="is not a content type"):
        await t.submit(attachments=[ReviewAttachmentIn(filename="a.txt", content="hi", content_type=content_type)])
    item = await t.submit(attachments=[ReviewAttachmentIn(filename="a.txt", content="hi",
                                                          content_type="Text/Markdown; charset=utf-8")])
    assert (await t.reviewer_b.review.download_attachment(item.id, 0)).content_type == "text/markdown"


async def test_bad_submissions_are_refused_and_nothing_is_written(world):
    t = await review_team(world)
    before = len((await t.owner_b.review.list(project_id=t.project_id)).items)
    with pytest.raises(errors.PayloadTooLarge):
        await t.submit(payload={"blob": "x" * 70_000})
    big = "y" * (world.services.ctx.settings.max_upload_bytes + 1)
    with pytest.raises(errors.PayloadTooLarge):
        await t.submit(attachments=[ReviewAttachmentIn(filename="big.txt", content=big)])
    with pytest.raises(errors.Invalid, match="base64"):
        await t.submit(attachments=[ReviewAttachmentIn(filename="x.bin", content_base64="not base64!!")])
    with pytest.raises(errors.Invalid, match="not a user"):
        await t.submit(requested_reviewer_ids=["01ARZ3NDEKTSV4RRFFQ69G5FAV"])
    outsider = await user(world)
    with pytest.raises(errors.Invalid, match="not a member"):
        await t.submit(requested_reviewer_ids=[outsider.id])
    with pytest.raises(errors.Forbidden):
        await t.viewer_b.review.submit(ReviewItemCreate(title="x", project_id=t.project_id))
    with pytest.raises(errors.NotFound):
        await t.submit(project_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(ValidationError):
        ReviewItemCreate(title="")
    assert len((await t.owner_b.review.list(project_id=t.project_id)).items) == before


async def test_stats(world):
    t = await review_team(world)
    a, b, c = await t.submit("one"), await t.submit("two"), await t.submit("three")
    await t.reviewer_b.review.approve(a.id)
    await t.reviewer_b.review.quarantine(b.id, "check")
    stats = await t.reviewer_b.review.stats(project_id=t.project_id)
    assert stats.by_state == {"pending": 1, "approved": 1, "rejected": 0, "quarantined": 1}
    assert stats.total == 3 and stats.pending == 1 and stats.decided_count == 1
    assert [(p.project_id, p.pending, p.approved, p.quarantined) for p in stats.by_project] == [
        (t.project_id, 1, 1, 1)]
    assert sum(bucket.count for bucket in stats.by_age) == 2  # open items: pending + quarantined
    assert stats.oldest_pending_at == (await t.reviewer_b.review.get(c.id)).created_at
    assert stats.median_seconds_to_decision is not None and stats.median_seconds_to_decision >= 0
    assert stats.my_decisions_today == 2
    stranger = await world.as_(await user(world))
    assert (await stranger.review.stats()).total == 0
