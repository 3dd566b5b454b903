"""Review queue: submit, list, fetch, transcript and attachment download."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from ....errors import Forbidden, Invalid, NotFound, PayloadTooLarge
from ....principal import Principal
from ....schemas import (
    Page,
    ReviewAttachmentContent,
    ReviewItem,
    ReviewItemCreate,
    ReviewOrder,
    ReviewState,
    ReviewTranscript,
    TranscriptMessage,
)
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import (
    ProjectRow,
    ReviewAttachmentRow,
    ReviewDecisionRow,
    ReviewItemRow,
    ReviewRequestedReviewerRow,
    UserRow,
    orm_attr,
)
from .._common import require_user
from ..projects.access import load_project, member_role
from .access import decisions_for, load_item, visible_clause
from .convert import PRIORITY_RANK, attachments_of, item_model, transcript_markdown
from .states import OPEN_STATES

#: Largest payload (its JSON text, in bytes).
MAX_PAYLOAD_BYTES = 64 * 1024
#: Largest transcript (all message contents together, in characters).
MAX_TRANSCRIPT_CHARS = 1_000_000
#: No item holds more attachments than this; a larger index is simply not found.
MAX_ATTACHMENT_INDEX = 2**31
#: type/subtype in ASCII: it is sent back as the download's Content-Type header (``\w`` alone
#: would let "tëxt/plain" through, a header value no client can read).
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$", re.ASCII)
STATE_FILTERS = (*(s.value for s in ReviewState), "open")


def _payload(data: ReviewItemCreate) -> tuple[Any, str]:
    try:
        text = json.dumps(data.payload, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise Invalid("payload must be plain JSON (no NaN or Infinity)") from None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"the payload is {size} bytes of JSON; the limit is {MAX_PAYLOAD_BYTES}")
    fmt = data.payload_format.value if data.payload_format else (
        "markdown" if isinstance(data.payload, str) else "json")
    return data.payload, fmt


def _transcript(data: ReviewItemCreate) -> list[dict[str, Any]]:
    if data.transcript is None:
        return []
    if isinstance(data.transcript, str):
        messages = [{"role": "transcript", "content": data.transcript}] if data.transcript.strip() else []
    else:
        messages = [m.model_dump(mode="json", exclude_none=True) for m in data.transcript]
    total = sum(len(m["content"]) for m in messages)
    if total > MAX_TRANSCRIPT_CHARS:
        raise PayloadTooLarge(f"the transcript is {total} characters; the limit is {MAX_TRANSCRIPT_CHARS}")
    return messages


def _attachments(data: ReviewItemCreate, limit: int) -> list[tuple[str, str, bytes]]:
    out = []
    for i, a in enumerate(data.attachments):
        name = a.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name or name in (".", ".."):
            raise Invalid(f"attachments.{i}: the file needs a name")
        if a.content is not None:
            content = a.content.encode("utf-8", "surrogatepass")
            default_type = "text/plain"
        else:
            try:
                content = base64.b64decode(a.content_base64 or "", validate=True)
            except (binascii.Error, ValueError):
                raise Invalid(f"attachments.{i} ({name}): content_base64 is not valid base64") from None
            default_type = "application/octet-stream"
        if len(content) > limit:
            raise PayloadTooLarge(f"attachment {name}: {len(content)} bytes is over the {limit}-byte limit")
        ctype = (a.content_type or mimetypes.guess_type(name)[0] or default_type).split(";")[0].strip().lower()
        if not _CONTENT_TYPE.match(ctype):
            raise Invalid(f"attachment {name}: {ctype!r} is not a content type (type/subtype)")
        out.append((name, ctype, content))
    return out


class ReviewQueue:
    ctx: ServiceContext

    async def _check_reviewers(self, s: AsyncSession, ids: list[str], project_id: str | None) -> list[str]:
        unique = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
        if not unique:
            return []
        found = set((await s.scalars(select(col(UserRow.id)).where(col(UserRow.id).in_(unique)))).all())
        if missing := [i for i in unique if i not in found]:
            raise Invalid(f"requested reviewer {missing[0]} is not a user")
        if project_id is not None:
            for uid in unique:
                if await member_role(s, project_id, uid) is None:
                    raise Invalid(f"requested reviewer {uid} is not a member of the item's project")
        return unique

    @idempotent(ReviewItem)
    async def submit(self, principal: Principal, data: ReviewItemCreate) -> ReviewItem:
        require_user(principal)
        if principal.role == "viewer":
            raise Forbidden("viewers cannot submit review items")
        payload, fmt = _payload(data)
        transcript = _transcript(data)
        files = _attachments(data, self.ctx.settings.max_upload_bytes)
        async with self.ctx.db.transaction() as s:
            project_name = None
            if data.project_id is not None:
                acc = await load_project(s, principal, data.project_id)
                acc.at_least("editor", principal, "submitting review items")
                acc.writable()
                project_name = acc.project.name
            reviewers = await self._check_reviewers(s, data.requested_reviewer_ids, data.project_id)
            now = self.ctx.clock.now()
            row = ReviewItemRow(
                id=self.ctx.ids.new(), kind=data.kind, title=data.title, summary=data.summary, payload=payload,
                payload_format=fmt, project_id=data.project_id, priority_rank=PRIORITY_RANK[data.priority.value],
                state="pending", source=data.source.value, source_ref=data.source_ref,
                submitter_id=principal.user_id, submitter=principal.username, requested_reviewer_ids=reviewers,
                transcript=transcript, transcript_messages=len(transcript), created_at=now, updated_at=now,
            )
            s.add(row)
            await s.flush()
            attachments = []
            for position, (name, ctype, content) in enumerate(files):
                att = ReviewAttachmentRow(id=self.ctx.ids.new(), item_id=row.id, position=position, filename=name,
                                          content_type=ctype, size=len(content),
                                          sha256=hashlib.sha256(content).hexdigest(), content=content)
                s.add(att)
                attachments.append(att)
            for uid in reviewers:
                s.add(ReviewRequestedReviewerRow(item_id=row.id, user_id=uid))
            await self.ctx.events.emit(
                s, principal, "review.submitted", "review_item", row.id, data.project_id,
                title=row.title, item_kind=row.kind, priority=data.priority.value, source=row.source,
                source_ref=row.source_ref, submitter_id=principal.user_id, requested_reviewer_ids=reviewers,
            )
            return item_model(row, project_name, attachments, decisions=await decisions_for(s, principal, row))

    async def list(
        self,
        principal: Principal,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        state: str | None = None,
        project_id: str | None = None,
        kind: str | None = None,
        submitter_id: str | None = None,
        requested_of_me: bool = False,
        q: str | None = None,
        order: str = "newest",
    ) -> Page[ReviewItem]:
        """Items the caller can see; ``state="open"`` means pending or quarantined."""
        require_user(principal)
        if state is not None and state not in STATE_FILTERS:
            raise Invalid(f"state must be one of {', '.join(STATE_FILTERS)}")
        try:
            order = ReviewOrder(order).value
        except ValueError:
            raise Invalid(f"order must be one of {', '.join(o.value for o in ReviewOrder)}") from None
        stmt = (select(ReviewItemRow, col(ProjectRow.name))
                .outerjoin(ProjectRow, col(ProjectRow.id) == col(ReviewItemRow.project_id))
                .options(defer(orm_attr(ReviewItemRow.transcript))))
        if (clause := visible_clause(principal)) is not None:
            stmt = stmt.where(clause)
        if state == "open":
            stmt = stmt.where(col(ReviewItemRow.state).in_(OPEN_STATES))
        elif state:
            stmt = stmt.where(col(ReviewItemRow.state) == state)
        if project_id:
            stmt = stmt.where(col(ReviewItemRow.project_id) == project_id)
        if kind:
            stmt = stmt.where(col(ReviewItemRow.kind) == kind)
        if submitter_id:
            stmt = stmt.where(col(ReviewItemRow.submitter_id) == submitter_id)
        if requested_of_me:
            stmt = stmt.where(col(ReviewItemRow.id).in_(select(col(ReviewRequestedReviewerRow.item_id)).where(
                col(ReviewRequestedReviewerRow.user_id) == principal.user_id)))
        if q:
            if len(q) > 200:
                raise Invalid("q is longer than 200 characters")
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(col(ReviewItemRow.title).ilike(f"%{escaped}%", escape="\\"))
        if order == "priority":
            keys, key_of = ([col(ReviewItemRow.priority_rank), col(ReviewItemRow.id)],
                            lambda r: [r[0].priority_rank, r[0].id])
        else:
            keys, key_of = [col(ReviewItemRow.id)], lambda r: [r[0].id]
        async with self.ctx.db.read() as s:
            page = await paginate(s, stmt, keys, key_of, lambda r: r, limit=limit, cursor=cursor,
                                  descending=order == "newest")
            files = await attachments_of(s, [r[0].id for r in page.items])
            roles: dict[str, str | None] = {}  # one role lookup per project, not per item
            items = [item_model(r[0], r[1], files[r[0].id], decisions=await decisions_for(s, principal, r[0], roles))
                     for r in page.items]
        return Page[ReviewItem](items=items, next_cursor=page.next_cursor)

    async def get(self, principal: Principal, item_id: str) -> ReviewItem:
        async with self.ctx.db.read() as s:
            row = await load_item(s, principal, item_id)
            name = await s.scalar(select(col(ProjectRow.name)).where(col(ProjectRow.id) == row.project_id)) \
                if row.project_id else None
            history = (await s.scalars(select(ReviewDecisionRow).where(col(ReviewDecisionRow.item_id) == item_id)
                                       .order_by(col(ReviewDecisionRow.id)))).all()
            files = await attachments_of(s, [item_id])
            return item_model(row, name, files[item_id], history, await decisions_for(s, principal, row))

    async def transcript(self, principal: Principal, item_id: str) -> ReviewTranscript:
        async with self.ctx.db.read() as s:
            row = await load_item(s, principal, item_id)
            messages = [TranscriptMessage.model_validate(m) for m in row.transcript or []]
            return ReviewTranscript(item_id=item_id, messages=messages,
                                    markdown=transcript_markdown(row.title, messages))

    async def download_attachment(self, principal: Principal, item_id: str, index: int) -> ReviewAttachmentContent:
        async with self.ctx.db.read() as s:
            await load_item(s, principal, item_id)
            # An index SQLite cannot hold (beyond 64 bits) names no attachment either.
            in_range = 0 <= index <= MAX_ATTACHMENT_INDEX
            att = await s.scalar(select(ReviewAttachmentRow).where(
                col(ReviewAttachmentRow.item_id) == item_id,
                col(ReviewAttachmentRow.position) == index)) if in_range else None
            if att is None:
                count = len((await attachments_of(s, [item_id]))[item_id])
                raise NotFound(f"review item {item_id} has no attachment {index} "
                               f"({'no attachments' if not count else f'indexes 0-{count - 1}'})")
            return ReviewAttachmentContent(filename=att.filename, content_type=att.content_type, size=att.size,
                                           content=att.content)


__all__ = ["ReviewQueue"]
