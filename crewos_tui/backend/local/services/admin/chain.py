"""The audit chain: every domain event becomes one hash-chained audit event.

``AuditTrail.on_event`` is an in-transaction handler on the event bus, so the audit
event commits or rolls back with the change it records. Each event's

    hash = sha256(prev_hash ‖ canonical JSON of the event without its hash)

where the canonical JSON has sorted keys, no spaces, UTF-8, and times as ISO 8601
UTC with microseconds; the first event's ``prev_hash`` is 64 zeros. ``seq`` is
head + 1. Appends are serialized by the database: a service transaction starts
with ``BEGIN IMMEDIATE`` (it holds SQLite's write lock), and the head is read
inside it, so two writers can never both extend the same head.

When the chain is empty but domain events exist (a database from before the audit
log), the first append records those events first, oldest first, so the chain
covers the whole history.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....request_id import current_request_id
from ....schemas.audit import GENESIS_HASH
from ...events import DomainEvent
from ...tables import AuditEventRow, DomainEventRow, table_of

REDACTED = "[redacted]"
#: Keys whose values never reach the audit log.
_SECRET_KEY = re.compile(
    r"pass(word|phrase)|secret|(^|_)token$|api[_-]?key$|^key$|authorization|credential|private[_-]?key|cookie",
    re.IGNORECASE)
#: Values that look like a raw API key or a bearer token, whatever their key.
_SECRET_VALUE = re.compile(r"^(crewos_[a-z0-9]{8}_|Bearer\s|sk-[A-Za-z0-9]{8,}|eyJ[A-Za-z0-9_-]{10,}\.)")
SUMMARY_CHARS = 300
_REQUEST_KEY = "crewos_audit_request_id"
BACKFILL_BATCH = 1000

#: The fields covered by the hash, in CSV/display order.
HASHED_FIELDS = ("seq", "event_id", "created_at", "actor_id", "actor", "auth_method", "action", "resource_type",
                 "resource_id", "project_id", "request_id", "summary", "details", "prev_hash")


def redact(value: Any, key: str = "") -> Any:
    """``value`` with anything secret-looking replaced by ``[redacted]`` (recursively)."""
    if key and _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUE.match(value):
        return REDACTED
    return value


def json_safe(value: Any) -> Any:
    """What the JSON column will give back, so the hash is over what is stored."""
    return json.loads(json.dumps(value, default=str))


def time_text(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def summarize(action: str, resource_type: str, resource_id: str, details: dict[str, Any]) -> str:
    """One line a person reads: ``project.created project 01J… (name='Atlas', template='software')``."""
    parts = [f"{k}={_short(v)}" for k, v in sorted(details.items()) if v not in (None, "", [], {})]
    text = f"{action} {resource_type} {resource_id}".rstrip()
    if parts:
        text += " (" + ", ".join(parts) + ")"
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 3] + "..."


def canonical_json(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def link_hash(fields: dict[str, Any]) -> str:
    """sha256(prev_hash ‖ canonical JSON of the fields without ``hash``)."""
    body = {k: fields[k] for k in HASHED_FIELDS}
    body["created_at"] = time_text(body["created_at"])
    return hashlib.sha256((fields["prev_hash"] + canonical_json(body)).encode("utf-8")).hexdigest()


def row_fields(row: Any) -> dict[str, Any]:
    """The hashed fields of a stored row (ORM object or mapping)."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {k: get(k) for k in HASHED_FIELDS}


def build_link(seq: int, prev_hash: str, event: DomainEvent | Any, request_id: str) -> dict[str, Any]:
    """The row that records ``event`` as number ``seq`` after ``prev_hash``."""
    details = json_safe(redact(dict(event.data or {})))
    created = event.created_at
    assert created is not None  # the event bus stamps every event it emits
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    fields: dict[str, Any] = {
        "seq": seq,
        "event_id": event.id,
        "created_at": created,
        "actor_id": event.actor_id,
        "actor": event.actor or "",
        "auth_method": event.auth_method or "",
        "action": event.kind,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "project_id": event.project_id,
        "request_id": request_id,
        "summary": summarize(event.kind, event.resource_type, event.resource_id, details),
        "details": details,
        "prev_hash": prev_hash,
    }
    fields["hash"] = link_hash(fields)
    return fields


def chain(start_seq: int, prev_hash: str, events: Iterable[Any], request_id: str) -> list[dict[str, Any]]:
    """Links for ``events`` in order, continuing from (``start_seq`` - 1, ``prev_hash``)."""
    rows = []
    for i, event in enumerate(events):
        row = build_link(start_seq + i, prev_hash, event, request_id)
        prev_hash = row["hash"]
        rows.append(row)
    return rows


async def head(session: AsyncSession) -> tuple[int, str]:
    """(seq, hash) of the last event, or (0, GENESIS_HASH)."""
    last = (await session.execute(
        select(col(AuditEventRow.seq), col(AuditEventRow.hash))
        .order_by(col(AuditEventRow.seq).desc()).limit(1))).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)


class AuditTrail:
    """The in-transaction handler that turns domain events into audit events."""

    async def on_event(self, session: AsyncSession, event: DomainEvent) -> None:
        request_id = self._request_id(session, event)
        seq, prev = await head(session)
        if seq == 0:
            seq, prev = await self.backfill(session, event.id)
        row = build_link(seq + 1, prev, event, request_id)
        await session.execute(insert(table_of(AuditEventRow)).values(**row))

    @staticmethod
    def _request_id(session: AsyncSession, event: DomainEvent) -> str:
        rid = current_request_id()
        if rid:
            return rid
        info = session.sync_session.info
        if _REQUEST_KEY not in info:
            # A local call: one id for the whole transaction, named after its first event
            # (unique, and deterministic where ids are — the demo, snapshots).
            info[_REQUEST_KEY] = f"local-{event.id}"
        return str(info[_REQUEST_KEY])

    @staticmethod
    async def backfill(session: AsyncSession, current_id: str) -> tuple[int, str]:
        """Record the domain events that predate the audit log; returns the new head."""
        seq, prev = 0, GENESIS_HASH
        after = ""
        while True:
            batch = (await session.scalars(
                select(DomainEventRow).where(col(DomainEventRow.id) > after, col(DomainEventRow.id) != current_id)
                .order_by(col(DomainEventRow.id)).limit(BACKFILL_BATCH))).all()
            if not batch:
                return seq, prev
            events = [DomainEvent(id=r.id, kind=r.kind, actor_id=r.actor_id, actor=r.actor,
                                  auth_method=r.auth_method, resource_type=r.resource_type,
                                  resource_id=r.resource_id, project_id=r.project_id, data=dict(r.data or {}),
                                  created_at=r.created_at) for r in batch]
            rows = chain(seq + 1, prev, events, "backfill")
            await session.execute(insert(table_of(AuditEventRow)), rows)
            seq, prev = rows[-1]["seq"], rows[-1]["hash"]
            after = batch[-1].id
