"""Review queue statistics: counts by state, project and age, and time to decision."""

from __future__ import annotations

import statistics
from datetime import timedelta

from sqlalchemy import and_, case, func, select, true
from sqlmodel import col

from ....principal import Principal
from ....schemas import ReviewAgeBucket, ReviewProjectCounts, ReviewState, ReviewStats
from ...context import ServiceContext
from ...tables import ProjectRow, ReviewDecisionRow, ReviewItemRow
from .._common import require_user
from ..projects.access import load_project
from .access import visible_clause
from .states import OPEN_STATES

#: (label, from seconds, to seconds or None) — how long open items have waited.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 1h", 0, 3600),
    ("1h-1d", 3600, 86400),
    ("1d-7d", 86400, 7 * 86400),
    ("> 7d", 7 * 86400, None),
)
#: The median time to decision looks at this many of the latest decided items.
MEDIAN_WINDOW = 5000


class ReviewStatsMixin:
    ctx: ServiceContext

    async def stats(self, principal: Principal, project_id: str | None = None) -> ReviewStats:
        require_user(principal)
        now = self.ctx.clock.now()
        where = []
        if (clause := visible_clause(principal)) is not None:
            where.append(clause)
        async with self.ctx.db.read() as s:
            if project_id:
                await load_project(s, principal, project_id)
                where.append(col(ReviewItemRow.project_id) == project_id)
            cond = and_(*where) if where else true()
            by_state = {st.value: 0 for st in ReviewState}
            for state, n in (await s.execute(select(col(ReviewItemRow.state), func.count()).where(cond)
                                             .group_by(col(ReviewItemRow.state)))).all():
                by_state[state] = int(n)

            per_project: dict[str | None, ReviewProjectCounts] = {}
            rows = await s.execute(
                select(col(ReviewItemRow.project_id), col(ProjectRow.name), col(ReviewItemRow.state), func.count())
                .outerjoin(ProjectRow, col(ProjectRow.id) == col(ReviewItemRow.project_id)).where(cond)
                .group_by(col(ReviewItemRow.project_id), col(ProjectRow.name), col(ReviewItemRow.state)))
            for pid, name, state, n in rows.all():
                entry = per_project.setdefault(pid, ReviewProjectCounts(project_id=pid, project_name=name or ""))
                setattr(entry, state, int(n))
            by_project = sorted(per_project.values(), key=lambda c: (-c.pending, c.project_name, c.project_id or ""))

            sums = []
            for _label, lo, hi in AGE_BUCKETS:
                # created in (now - hi, now - lo]
                conds = [col(ReviewItemRow.created_at) <= now - timedelta(seconds=lo)]
                if hi is not None:
                    conds.append(col(ReviewItemRow.created_at) > now - timedelta(seconds=hi))
                sums.append(func.sum(case((and_(*conds), 1), else_=0)))
            ages = (await s.execute(select(*sums).where(cond, col(ReviewItemRow.state).in_(OPEN_STATES)))).one()
            by_age = [ReviewAgeBucket(label=label, min_seconds=lo, max_seconds=hi, count=int(n or 0))
                      for (label, lo, hi), n in zip(AGE_BUCKETS, ages, strict=True)]

            decided = (await s.execute(
                select(col(ReviewItemRow.created_at), col(ReviewItemRow.decided_at))
                .where(cond, col(ReviewItemRow.state).in_(("approved", "rejected")),
                       col(ReviewItemRow.decided_at).is_not(None))
                .order_by(col(ReviewItemRow.decided_at).desc()).limit(MEDIAN_WINDOW))).all()
            waits = [max(0, int((d - c).total_seconds())) for c, d in decided if d is not None]
            median = int(statistics.median_low(waits)) if waits else None

            oldest = await s.scalar(select(func.min(col(ReviewItemRow.created_at))).where(
                cond, col(ReviewItemRow.state) == "pending"))
            today = now.replace(hour=0, minute=0, second=0, microsecond=0)
            mine = 0
            if principal.user_id is not None:
                mine = int(await s.scalar(select(func.count()).select_from(ReviewDecisionRow).where(
                    col(ReviewDecisionRow.actor_id) == principal.user_id,
                    col(ReviewDecisionRow.created_at) >= today)) or 0)
        if oldest is not None and oldest.tzinfo is None:  # func.min bypasses the column type
            from datetime import UTC, datetime

            oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
        return ReviewStats(
            total=sum(by_state.values()), by_state=by_state, by_project=by_project, by_age=by_age,
            decided_count=by_state["approved"] + by_state["rejected"], median_seconds_to_decision=median,
            pending=by_state["pending"], oldest_pending_at=oldest, my_decisions_today=mine, generated_at=now,
        )


__all__ = ["ReviewStatsMixin"]
