"""Idempotency keys of creates (``backend/idempotency.py``, ``local/idempotency.py``).

One row per (owner, key): written in the transaction that made the create, so a
crash keeps both or neither. ``response`` is the create's answer as JSON (a secret
shown once left out). Rows older than ``KEPT`` are deleted by later creates.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlmodel import Field, SQLModel

from . import utc_column


class IdempotencyKeyRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "idempotency_keys"

    #: The user id of the caller (``system:<name>`` for callers without one).
    owner: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    #: The service method, e.g. ``TaskCore.create``.
    operation: str
    #: sha256 of the call's arguments (the request), as canonical JSON.
    request_hash: str
    response: str
    #: The answer's secret was left out: a replay is refused instead of answered.
    withheld: bool = False
    created_at: datetime = utc_column(index=True)


__all__ = ["IdempotencyKeyRow"]
