"""Rows → wire models for the review queue, and the transcript as markdown."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....schemas import (
    ReviewAttachment,
    ReviewDecisionRecord,
    ReviewItem,
    TranscriptMessage,
)
from ....schemas.review import PayloadFormat, ReviewAction, ReviewPriority, ReviewSource, ReviewState
from ...tables import ReviewAttachmentRow, ReviewDecisionRow, ReviewItemRow

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
RANK_PRIORITY = {v: k for k, v in PRIORITY_RANK.items()}


def attachment_model(row: ReviewAttachmentRow) -> ReviewAttachment:
    return ReviewAttachment(index=row.position, filename=row.filename, content_type=row.content_type,
                            size=row.size, sha256=row.sha256)


def item_model(row: ReviewItemRow, project_name: str | None, attachments: Sequence[ReviewAttachmentRow] = (),
               history: Sequence[ReviewDecisionRow] = (),
               decisions: tuple[list[str], dict[str, str]] = ([], {})) -> ReviewItem:
    allowed, refused = decisions
    return ReviewItem(
        id=row.id, kind=row.kind, title=row.title, summary=row.summary, payload=row.payload,
        payload_format=PayloadFormat(row.payload_format), project_id=row.project_id, project_name=project_name,
        priority=ReviewPriority(RANK_PRIORITY.get(row.priority_rank, "normal")), state=ReviewState(row.state),
        source=ReviewSource(row.source),
        source_ref=row.source_ref, submitter_id=row.submitter_id, submitter=row.submitter,
        requested_reviewer_ids=list(row.requested_reviewer_ids or []),
        attachments=[attachment_model(a) for a in attachments], transcript_messages=row.transcript_messages,
        created_at=row.created_at, updated_at=row.updated_at, decided_at=row.decided_at,
        decided_by_id=row.decided_by_id, decided_by=row.decided_by, decision_reason=row.decision_reason,
        history=[decision_model(d) for d in history],
        allowed_actions=[ReviewAction(a) for a in allowed],
        refusals={ReviewAction(a): why for a, why in refused.items()},
    )


def decision_model(row: ReviewDecisionRow) -> ReviewDecisionRecord:
    return ReviewDecisionRecord(action=ReviewAction(row.action), from_state=ReviewState(row.from_state),
                                to_state=ReviewState(row.to_state),
                                actor_id=row.actor_id, actor=row.actor, reason=row.reason,
                                decided_at=row.created_at, batch_id=row.batch_id)


async def attachments_of(s: AsyncSession, item_ids: Sequence[str]) -> dict[str, list[ReviewAttachmentRow]]:
    """Attachment metadata (never the bytes) of several items, in index order."""
    out: dict[str, list[ReviewAttachmentRow]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    cols = (col(ReviewAttachmentRow.id), col(ReviewAttachmentRow.item_id), col(ReviewAttachmentRow.position),
            col(ReviewAttachmentRow.filename), col(ReviewAttachmentRow.content_type), col(ReviewAttachmentRow.size),
            col(ReviewAttachmentRow.sha256))
    rows = await s.execute(select(*cols).where(col(ReviewAttachmentRow.item_id).in_(list(item_ids)))
                           .order_by(col(ReviewAttachmentRow.item_id), col(ReviewAttachmentRow.position)))
    for r in rows.all():
        out[r.item_id].append(ReviewAttachmentRow(id=r.id, item_id=r.item_id, position=r.position,
                                                  filename=r.filename, content_type=r.content_type,
                                                  size=r.size, sha256=r.sha256, content=b""))
    return out


def transcript_markdown(title: str, messages: Sequence[TranscriptMessage]) -> str:
    lines = [f"# Transcript: {title}", ""]
    if not messages:
        lines.append("_No transcript._")
    for m in messages:
        who = f"{m.role} ({m.name})" if m.name else m.role
        when = f" · {m.at.strftime('%Y-%m-%d %H:%M:%S')} UTC" if m.at else ""
        lines += [f"**{who}**{when}", "", m.content.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"
