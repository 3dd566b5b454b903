"""Feedback on replies (up/down + comment) and its aggregate metrics."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, or_, select
from sqlmodel import col

from ....errors import Invalid, NotFound
from ....principal import Principal
from ....schemas import (
    FeedbackBucket,
    FeedbackMetrics,
    MessageFeedback,
    MessageFeedbackCreate,
)
from ...context import ServiceContext
from ...idempotency import idempotent
from ...tables import (
    ChatMessageRow,
    ChatSessionRow,
    MessageFeedbackRow,
    SessionShareRow,
)
from .._common import require_user
from .access import load_session
from .convert import feedback_model

MAX_DAYS = 366


class SessionFeedback:
    ctx: ServiceContext

    @idempotent(MessageFeedback)
    async def submit_feedback(self, principal: Principal, session_id: str,
                              data: MessageFeedbackCreate) -> MessageFeedback:
        """Rate one reply of the session; rating again replaces your earlier rating."""
        async with self.ctx.db.transaction() as s:
            acc = await load_session(s, principal, session_id)
            msg = await s.get(ChatMessageRow, data.message_id)
            if msg is None or msg.session_id != session_id:
                raise NotFound(f"message {data.message_id} not found in this session")
            if msg.role != "assistant":
                raise Invalid("feedback is given on a reply (an assistant message), not on a question")
            now = self.ctx.clock.now()
            row = await s.scalar(select(MessageFeedbackRow).where(col(MessageFeedbackRow.message_id) == msg.id,
                                                                  col(MessageFeedbackRow.user_id) == principal.user_id))
            kind = "session.feedback_updated" if row is not None else "session.feedback_submitted"
            if row is None:
                assert principal.user_id is not None  # load_session found the caller's own or shared session
                row = MessageFeedbackRow(id=self.ctx.ids.new(), session_id=session_id, message_id=msg.id,
                                         user_id=principal.user_id, username=principal.username,
                                         rating=data.rating.value, comment=data.comment, agent=msg.agent,
                                         created_at=now)
                s.add(row)
            else:
                row.rating, row.comment, row.updated_at = data.rating.value, data.comment, now
            await self.ctx.events.emit(s, principal, kind, "chat_message", msg.id, acc.row.project_id,
                                       user_id=acc.row.owner_id, session_id=session_id, rating=row.rating,
                                       agent=msg.agent, has_comment=bool(row.comment))
            return feedback_model(row)

    async def feedback_metrics(
        self, principal: Principal, days: int = 30, agent: str | None = None, project_id: str | None = None
    ) -> FeedbackMetrics:
        """Counts, up-ratio, and buckets by agent and by day over the last ``days`` days,
        of the feedback in sessions the caller can see (every session for an admin)."""
        require_user(principal)
        if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise Invalid(f"days must be between 1 and {MAX_DAYS}")
        until = self.ctx.clock.now()
        since = (until - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        F = MessageFeedbackRow
        where = [col(F.created_at) >= since]
        if agent:
            where.append(col(F.agent) == agent)
        if project_id:
            where.append(col(F.session_id).in_(select(col(ChatSessionRow.id))
                                               .where(col(ChatSessionRow.project_id) == project_id)))
        if not principal.is_admin:
            uid = principal.user_id
            where.append(or_(
                col(F.session_id).in_(select(col(ChatSessionRow.id)).where(col(ChatSessionRow.owner_id) == uid)),
                col(F.session_id).in_(select(col(SessionShareRow.session_id)).where(
                    col(SessionShareRow.invitee_id) == uid, col(SessionShareRow.status) == "accepted")),
            ))
        up = func.sum(case((col(F.rating) == "up", 1), else_=0))
        down = func.sum(case((col(F.rating) == "down", 1), else_=0))
        async with self.ctx.db.read() as s:
            total, ups, downs, commented = (await s.execute(select(
                func.count(), up, down, func.sum(case((col(F.comment) != "", 1), else_=0))).where(*where))).one()
            agent_key = func.coalesce(col(F.agent), "unknown")
            by_agent = (await s.execute(select(agent_key, up, down, func.count()).where(*where)
                                        .group_by(agent_key).order_by(agent_key))).all()
            day = func.date(col(F.created_at))
            by_day = (await s.execute(select(day, up, down, func.count()).where(*where)
                                      .group_by(day).order_by(day))).all()
        total, ups = int(total or 0), int(ups or 0)
        return FeedbackMetrics(
            since=since.date(), until=until.date(), total=total, up=ups, down=int(downs or 0),
            up_ratio=round(ups / total, 3) if total else 0.0, with_comment=int(commented or 0),
            by_agent=[FeedbackBucket(key=str(k), up=int(u or 0), down=int(d or 0), total=int(n))
                      for k, u, d, n in by_agent],
            by_day=[FeedbackBucket(key=str(k), up=int(u or 0), down=int(d or 0), total=int(n))
                    for k, u, d, n in by_day],
        )
