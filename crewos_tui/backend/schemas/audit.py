"""The audit log: hash-chained events, integrity answers, and the CSV export stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import Field

from .common import Wire

#: The ``prev_hash`` of the first event in the chain.
GENESIS_HASH = "0" * 64

#: Columns of the CSV export, in order.
AUDIT_CSV_COLUMNS = (
    "seq", "created_at", "actor", "actor_id", "auth_method", "action", "resource_type", "resource_id",
    "project_id", "request_id", "summary", "details", "prev_hash", "hash",
)


class AuditEvent(Wire):
    seq: int
    event_id: str  # the domain event this records
    created_at: datetime
    actor_id: str | None = None
    actor: str
    auth_method: str
    action: str  # the domain event kind, e.g. "project.created"
    resource_type: str
    resource_id: str
    project_id: str | None = None
    request_id: str
    summary: str
    #: What changed, with anything secret-looking replaced by "[redacted]".
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str


class AuditIntegrity(Wire):
    valid: bool
    checked: int  # events verified before the walk stopped (all of them when valid)
    first_invalid_seq: int | None = None
    head_hash: str  # the stored hash of the last event (GENESIS_HASH when empty)
    head_seq: int = 0
    reason: str | None = None  # why the first invalid event failed


class AuditCsvStream:
    """An audit export being streamed: ``async for chunk in stream`` yields CSV text.

    ``total_rows`` is how many data rows will follow the header (for progress).
    Iterate it to the end or call ``aclose()`` so the underlying reader is released.
    """

    def __init__(self, total_rows: int, chunks: AsyncIterator[str],
                 on_close: Callable[[], Awaitable[None]] | None = None) -> None:
        self.total_rows = total_rows
        self._chunks = chunks
        self._on_close = on_close

    def __aiter__(self) -> AuditCsvStream:
        return self

    async def __anext__(self) -> str:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        closer = getattr(self._chunks, "aclose", None)
        if closer is not None:
            await closer()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            await on_close()


__all__ = ["AUDIT_CSV_COLUMNS", "GENESIS_HASH", "AuditCsvStream", "AuditEvent", "AuditIntegrity"]
