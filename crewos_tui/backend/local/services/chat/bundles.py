"""Reading a whole session out: markdown/JSON transcript, export bundle, replay events."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from ....principal import Principal
from ....schemas import (
    ChatMessage,
    ChatSession,
    ReplayEvent,
    SessionExport,
    SessionReplay,
    SessionTranscript,
)
from ....text_safety import md_escape, visible
from ...agents.runtime import chunks
from ...context import ServiceContext
from ...tables import MessageFeedbackRow, SessionShareRow, UserRow
from .access import load_session
from .convert import feedback_model, messages_of, session_with_counts, share_model


def _when(m: ChatMessage) -> str:
    return m.created_at.strftime("%Y-%m-%d %H:%M UTC")


def transcript_markdown(session: ChatSession, messages: list[ChatMessage]) -> str:
    """The session as Markdown. Titles and names are quoted (``md_escape``); message bodies
    are Markdown by design, with control characters made visible."""
    title = md_escape(session.title or "Untitled session")
    lines = [f"# {title}", "",
             (f"_Session {session.id} · owner {md_escape(session.owner)} · started "
             f"{session.created_at.strftime('%Y-%m-%d %H:%M UTC')} · {session.status}_"), ""]
    for m in messages:
        who = md_escape(m.author) if m.role == "user" else f"{md_escape(m.agent or 'assistant')} (agent)"
        note = "" if m.status == "complete" else f" — _{m.status}_"
        body = visible(m.content.rstrip(), multiline=True)
        lines += [f"### {who} · {_when(m)}{note}", "", body or "_(no text)_", ""]
    return "\n".join(lines).rstrip() + "\n"


class SessionBundles:
    ctx: ServiceContext

    async def transcript(self, principal: Principal, session_id: str) -> SessionTranscript:
        """The session as markdown and as the JSON list of messages."""
        async with self.ctx.db.read() as s:
            acc = await load_session(s, principal, session_id)
            session = await session_with_counts(s, acc.row, acc.access, acc.share_id)
            messages = await messages_of(s, session_id, principal.user_id)
            return SessionTranscript(session_id=session_id, title=session.title,
                                     markdown=transcript_markdown(session, messages), messages=messages)

    async def export(self, principal: Principal, session_id: str) -> SessionExport:
        """A self-contained bundle: metadata, messages, feedback, and (for the owner) shares."""
        async with self.ctx.db.read() as s:
            acc = await load_session(s, principal, session_id)
            session = await session_with_counts(s, acc.row, acc.access, acc.share_id)
            feedback = (await s.execute(select(MessageFeedbackRow)
                                        .where(col(MessageFeedbackRow.session_id) == session_id)
                                        .order_by(col(MessageFeedbackRow.id)))).scalars().all()
            shares = []
            if acc.is_owner:
                rows = (await s.execute(select(SessionShareRow, col(UserRow.username))
                                        .join(UserRow, col(UserRow.id) == col(SessionShareRow.invitee_id))
                                        .where(col(SessionShareRow.session_id) == session_id)
                                        .order_by(col(SessionShareRow.id)))).all()
                shares = [share_model(r, name) for r, name in rows]
            return SessionExport(exported_at=self.ctx.clock.now(), session=session,
                                 messages=await messages_of(s, session_id, principal.user_id),
                                 feedback=[feedback_model(f) for f in feedback], shares=shares)

    async def replay(self, principal: Principal, session_id: str) -> SessionReplay:
        """The ordered events that re-render the session, replies as streamed deltas."""
        async with self.ctx.db.read() as s:
            acc = await load_session(s, principal, session_id)
            row = acc.row
            messages = await messages_of(s, session_id, principal.user_id)
            feedback = (await s.execute(select(MessageFeedbackRow)
                                        .where(col(MessageFeedbackRow.session_id) == session_id)
                                        .order_by(col(MessageFeedbackRow.id)))).scalars().all()
        events: list[tuple] = []
        for i, m in enumerate(messages, 1):
            base = {"message_id": m.id, "role": m.role, "agent": m.agent}
            if m.role == "user":
                events.append((m.created_at, i, "message", {**base, "content": m.content, "status": m.status,
                                                            "data": {"author": m.author}}))
                continue
            done = m.completed_at or m.created_at
            events.append((m.created_at, i, "assistant.start", base))
            events += [(m.created_at, i, "assistant.delta", {**base, "content": piece}) for piece in chunks(m.content)]
            events.append((done, i, "assistant.done", {**base, "content": m.content, "status": m.status,
                                                       "data": {"tokens_in": m.tokens_in, "tokens_out": m.tokens_out}}))
        for f in feedback:
            events.append((f.updated_at or f.created_at, len(messages) + 1, "feedback",
                           {"message_id": f.message_id, "data": {"rating": f.rating, "comment": f.comment,
                                                                 "user": f.username}}))
        for when, kind in ((row.closed_at, "session.closed"), (row.archived_at, "session.archived")):
            if when is not None:
                events.append((when, len(messages) + 2, kind, {}))
        # Stable: by time, then message order; deltas keep their list order (sort is stable).
        events.sort(key=lambda e: (e[0], e[1]))
        events.insert(0, (row.created_at, 0, "session.created", {"data": {"title": row.title}}))
        return SessionReplay(session_id=session_id, title=row.title, events=[
            ReplayEvent(seq=n, type=kind, at=when, **fields) for n, (when, _, kind, fields) in enumerate(events, 1)])
