"""Worker leases: which processes on this database are alive (``leases.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlmodel import Field, SQLModel

from . import utc_column

__all__ = ["WorkerLeaseRow"]


class WorkerLeaseRow(SQLModel, table=True):
    """A process that owns in-flight work (chat runs): alive while it renews ``expires_at``."""

    __tablename__: ClassVar[str] = "worker_leases"
    worker: str = Field(primary_key=True)  # the token its work rows carry (``chat_runs.worker``)
    host: str = ""
    pid: int = 0
    started_at: datetime = utc_column()
    heartbeat_at: datetime = utc_column()
    expires_at: datetime = utc_column()
