"""Reading the audit log: filtered pages, a streamed CSV export, and the integrity walk."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, func, or_, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from ....errors import Invalid
from ....principal import Principal
from ....schemas import Page
from ....schemas.audit import (
    AUDIT_CSV_COLUMNS,
    GENESIS_HASH,
    AuditCsvStream,
    AuditEvent,
    AuditIntegrity,
)
from ....schemas.common import DEFAULT_LIMIT
from ....text_safety import csv_safe
from ...context import ServiceContext
from ...pagination import paginate
from ...tables import AuditEventRow, DomainEventRow, table_of
from .._common import require_admin
from .chain import AuditTrail, head, link_hash, row_fields, time_text

#: Rows read per query while exporting or verifying: memory stays bounded by this.
EXPORT_PAGE = 500
VERIFY_PAGE = 2000
MAX_FILTER = 200


def audit_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent.model_validate(row)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise Invalid(f"{name} must be a date and time (ISO 8601)")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def audit_filters(
    actor: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    project_id: str | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses for the filters (validated here, so both backends answer alike)."""
    given = {"actor": actor, "action": action, "resource_type": resource_type, "resource_id": resource_id,
             "project_id": project_id, "request_id": request_id}
    for name, value in given.items():
        if value is not None and (not value.strip() or len(value) > MAX_FILTER):
            raise Invalid(f"{name} must be 1 to {MAX_FILTER} characters")
    since, until = _aware(since, "since"), _aware(until, "until")
    if since and until and since > until:
        raise Invalid("since must not be after until")
    where: list[ColumnElement[bool]] = []
    if actor:
        where.append(or_(col(AuditEventRow.actor) == actor.strip(), col(AuditEventRow.actor_id) == actor.strip()))
    if action:
        action = action.strip()
        if action.endswith(("*", ".")):  # "project.*" or "project." = every project action
            prefix = action.rstrip("*")
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(col(AuditEventRow.action).like(f"{escaped}%", escape="\\"))
        else:
            where.append(col(AuditEventRow.action) == action)
    if resource_type:
        where.append(col(AuditEventRow.resource_type) == resource_type.strip())
    if resource_id:
        where.append(col(AuditEventRow.resource_id) == resource_id.strip())
    if project_id:
        where.append(col(AuditEventRow.project_id) == project_id.strip())
    if request_id:
        where.append(col(AuditEventRow.request_id) == request_id.strip())
    if since:
        where.append(col(AuditEventRow.created_at) >= since)
    if until:
        where.append(col(AuditEventRow.created_at) <= until)
    return where


def csv_text(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


#: The export's columns as read: ``details`` as its stored JSON text (no decode/encode per row).
_T = table_of(AuditEventRow)
_EXPORT_COLUMNS = [type_coerce(_T.c[c], String) if c == "details" else _T.c[c] for c in AUDIT_CSV_COLUMNS]
_CREATED = AUDIT_CSV_COLUMNS.index("created_at")


def csv_row(row: Sequence[Any]) -> list[Any]:
    values = ["" if v is None else csv_safe(v) for v in row]
    values[_CREATED] = time_text(row[_CREATED])
    return values


class AdminAudit:
    ctx: ServiceContext

    async def list_audit_events(
        self,
        principal: Principal,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        project_id: str | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEvent]:
        """Audit events matching every filter given, newest first."""
        require_admin(principal)
        where = audit_filters(actor, action, resource_type, resource_id, project_id, request_id, since, until)
        async with self.ctx.db.read() as s:
            return await paginate(s, select(AuditEventRow).where(*where), [col(AuditEventRow.seq)], lambda r: [r.seq],
                                  audit_event, limit=limit, cursor=cursor, descending=True)

    async def export_audit_csv(
        self,
        principal: Principal,
        actor: str | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        project_id: str | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AuditCsvStream:
        """The matching events as CSV, oldest first, streamed page by page.

        Checks and filters are applied before the first byte; the export covers the
        chain as it was when it started (later appends are not included)."""
        require_admin(principal)
        where = audit_filters(actor, action, resource_type, resource_id, project_id, request_id, since, until)
        async with self.ctx.db.read() as s:
            last = int(await s.scalar(select(func.coalesce(func.max(col(AuditEventRow.seq)), 0))) or 0)
            where.append(col(AuditEventRow.seq) <= last)
            total = int(await s.scalar(select(func.count()).select_from(AuditEventRow).where(*where)) or 0)
        return AuditCsvStream(total, self._csv_chunks(where))

    async def _csv_chunks(self, where: list[ColumnElement[bool]]) -> AsyncIterator[str]:
        yield csv_text([list(AUDIT_CSV_COLUMNS)])
        after = 0
        while True:
            # A short read per page: no connection or snapshot is held while the client reads.
            async with self.ctx.db.read() as s:
                rows = (await s.execute(select(*_EXPORT_COLUMNS).where(*where, col(AuditEventRow.seq) > after)
                                        .order_by(col(AuditEventRow.seq)).limit(EXPORT_PAGE))).all()
            if not rows:
                return
            after = rows[-1][0]
            yield csv_text([csv_row(r) for r in rows])

    async def audit_integrity(self, principal: Principal) -> AuditIntegrity:
        """Walk the whole chain: every link's prev_hash, hash and sequence number."""
        require_admin(principal)
        await self._catch_up()
        checked, expected_seq, prev = 0, 1, GENESIS_HASH
        async with self.ctx.db.read() as s:
            head_row = (await s.execute(select(col(AuditEventRow.seq), col(AuditEventRow.hash))
                                        .order_by(col(AuditEventRow.seq).desc()).limit(1))).first()
            head_seq, head_hash = (int(head_row[0]), str(head_row[1])) if head_row else (0, GENESIS_HASH)
            events = int(await s.scalar(select(func.count()).select_from(DomainEventRow)) or 0)

            def bad(seq: int, reason: str) -> AuditIntegrity:
                return AuditIntegrity(valid=False, checked=checked, first_invalid_seq=seq, head_hash=head_hash,
                                      head_seq=head_seq, reason=reason)

            while True:
                rows = (await s.execute(select(_T).where(_T.c.seq >= expected_seq, _T.c.seq <= head_seq)
                                        .order_by(_T.c.seq).limit(VERIFY_PAGE))).mappings().all()
                if not rows:
                    break
                for row in rows:
                    checked += 1
                    seq = row["seq"]
                    if seq != expected_seq:
                        return bad(expected_seq, f"event {expected_seq} is missing (next is {seq})")
                    if row["prev_hash"] != prev:
                        return bad(seq, "prev_hash does not match the previous event's hash")
                    if link_hash(row_fields(dict(row))) != row["hash"]:
                        return bad(seq, "hash does not match the event's contents")
                    prev, expected_seq = row["hash"], seq + 1
            if checked < events:
                # Every domain event is audited; fewer audit events means some were removed.
                return bad(head_seq + 1, f"{events - checked} recorded changes have no audit event "
                                         "(events after the head may have been deleted)")
        return AuditIntegrity(valid=True, checked=checked, head_hash=head_hash, head_seq=head_seq)

    async def _catch_up(self) -> None:
        """A database from before the audit log: record its history before verifying."""
        async with self.ctx.db.read() as s:
            if await s.scalar(select(col(AuditEventRow.seq)).limit(1)) is not None:
                return
            if await s.scalar(select(col(DomainEventRow.id)).limit(1)) is None:
                return
        async with self.ctx.db.transaction() as s:
            if (await head(s))[0] == 0:
                await AuditTrail.backfill(s, "")
