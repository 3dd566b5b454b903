"""Queue stats over the durable agent jobs (the tasks slice's ``agent_jobs`` table).

The table is looked up by name, so these stats say plainly when the jobs slice is
not installed instead of failing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import SQLModel

from ....principal import Principal
from ....schemas.admin import QueueKindStats, QueueStats
from ...context import ServiceContext
from .._common import require_admin

#: Queued work older than this with no live runner means the runner is not working.
STALL_AFTER = timedelta(seconds=60)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class AdminQueue:
    ctx: ServiceContext

    async def queue_stats(self, principal: Principal) -> QueueStats:
        """Agent jobs by state and kind, the oldest queued job's age, and the runner's heartbeat."""
        require_admin(principal)
        jobs = SQLModel.metadata.tables.get("agent_jobs")
        if jobs is None:
            return QueueStats(source="no durable jobs table (the tasks and jobs slice is not installed)")
        c = jobs.c
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as s:
            counts = (await s.execute(select(c.kind, c.status, func.count()).group_by(c.kind, c.status)
                                      .order_by(c.kind, c.status))).all()
            oldest = _aware(await s.scalar(select(func.min(c.created_at)).where(c.status == "queued")))
            beat = _aware(await s.scalar(select(func.max(c.heartbeat_at))))
            live = await s.scalar(select(func.count()).select_from(jobs).where(
                c.status == "running", c.lease_expires_at > now))
            stale = await s.scalar(select(func.count()).select_from(jobs).where(
                c.status == "running", c.lease_expires_at <= now))
        by_state: dict[str, int] = {}
        kinds: dict[str, dict[str, int]] = {}
        for kind, status, n in counts:
            by_state[status] = by_state.get(status, 0) + int(n)
            kinds.setdefault(kind, {})[status] = int(n)
        alive: bool | None = None
        if live:
            alive = True
        elif stale or (oldest is not None and now - oldest > STALL_AFTER):
            alive = False
        return QueueStats(
            total=sum(by_state.values()), by_state=by_state,
            by_kind=[QueueKindStats(kind=k, by_state=v) for k, v in kinds.items()],
            oldest_queued_at=oldest,
            oldest_queued_age_seconds=int((now - oldest).total_seconds()) if oldest else None,
            runner_heartbeat_at=beat,
            runner_heartbeat_age_seconds=int((now - beat).total_seconds()) if beat else None,
            runner_alive=alive, stale_running=int(stale or 0),
        )
