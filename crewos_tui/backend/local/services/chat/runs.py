"""Chat: send a message, stream the reply, cancel it, and the orchestrator's view of runs.

A turn is: check the message, session, agent and project, and let the agent runtime
prepare the run (guards refuse here, before anything is written); write the user
message, an empty assistant message and a ``chat_runs`` row in one transaction; then
a worker task executes the run, streaming pieces to whoever listens, and records the
reply, the run's status and the ``agent.run_completed`` event in one final transaction.

Cancelling (``cancel``, or a streaming client that goes away) sets the run's cancel
event: the agent stops at its next chunk and the partial reply is kept, marked
``cancelled``. A run that does not stop within a second is cancelled hard, and its
partial reply is still recorded. Durable runs (``durable=True``) answer at once with
the run id as ``job_id`` and wait for one of ``MAX_CONCURRENT_RUNS`` slots.

Runs left unfinished by a process that is gone are marked ``interrupted``: each run row
carries its process's worker token, the process keeps a lease on that token while it has
runs (``leases.py``), and a sweep (when a turn starts, or the orchestrator status is read;
at most every ``SWEEP_SECONDS``) touches only runs whose worker's lease is missing or
expired. A live process's runs, a ``crewos-tui serve`` next to a local TUI, are left alone.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import CrewOSError, NotFound, Unavailable, error_for_status
from ....principal import Principal
from ....schemas import (
    ActiveRunInfo,
    ChatCancelResult,
    ChatReply,
    ChatRequest,
    ChatStreamEvent,
    ChatUsage,
    OrchestratorStatus,
)
from ...agents import registry
from ...agents import runtime as agent_runtime
from ...context import ServiceContext
from ...leases import WorkerLease, forget_expired, gone_workers
from ...tables import ChatMessageRow, ChatRunRow, ChatSessionRow, SessionShareRow, UserRow
from .._common import require_user
from ..artifacts import artifact_for_reply
from ..projects.access import may_read_clause
from .access import load_session
from .sessions import new_session

log = logging.getLogger(__name__)

MAX_CONCURRENT_RUNS = 4
#: How often (service clock) a process looks for runs whose process is gone.
SWEEP_SECONDS = 10.0
#: How long ``cancel`` waits for a run to stop by itself before cancelling it hard.
CANCEL_GRACE = 1.0
TITLE_CHARS = 60
#: ``@name`` in a message, not inside an e-mail address (``a@b.c``).
MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")


async def mentioned_readers(s: AsyncSession, session_id: str, message: str, author_id: str | None) -> list[str]:
    """Ids of the users named ``@name`` in ``message`` who can read the session (an
    accepted share, and the session's project if it has one). Sessions are private:
    naming anyone else tells them nothing."""
    names = {m.rstrip(".-").casefold() for m in MENTION.findall(message)}
    if not names:
        return []
    session = await s.get(ChatSessionRow, session_id)
    stmt = (select(col(UserRow.id), col(UserRow.username))
            .join(SessionShareRow, col(SessionShareRow.invitee_id) == col(UserRow.id))
            .where(col(SessionShareRow.session_id) == session_id, col(SessionShareRow.status) == "accepted"))
    if session is not None and session.project_id is not None:  # and who may still read its project
        stmt = stmt.where(may_read_clause(session.project_id, col(UserRow.id), col(UserRow.role)))
    rows = await s.execute(stmt)
    return sorted({uid for uid, username in rows if username.casefold() in names and uid != author_id})


@dataclass
class ActiveRun:
    run_id: str
    session_id: str
    message_id: str
    user_message_id: str
    user_id: str | None
    username: str
    agent: str
    project_id: str | None
    durable: bool
    streaming: bool
    created_at: datetime
    started_at: datetime | None = None
    status: str = "running"
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    queue: asyncio.Queue[ChatStreamEvent | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    reply: ChatReply | None = None
    recorded: bool = False
    error: CrewOSError | None = None  # why it failed, for a caller waiting on the reply

    async def push(self, delta: str) -> None:
        self.queue.put_nowait(ChatStreamEvent(event="token", data={"delta": delta}))

    def info(self) -> ActiveRunInfo:
        return ActiveRunInfo(run_id=self.run_id, session_id=self.session_id, message_id=self.message_id,
                             agent=self.agent, user=self.username, project_id=self.project_id, status=self.status,
                             durable=self.durable, started_at=self.started_at, created_at=self.created_at)


def _title_from(message: str) -> str:
    first = message.strip().splitlines()[0].strip()
    return first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS - 1].rstrip() + "…"


class ChatService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._runs: dict[str, ActiveRun] = {}
        # This process's token on the runs it owns (not from ctx.ids: constructing the
        # service must not move the demo's seeded ids and clock).
        self._worker = secrets.token_hex(8)
        self._lease = WorkerLease(ctx, self._worker)
        self._swept_at: datetime | None = None
        self._completed = 0
        self._interrupted = 0
        self._slots: asyncio.Semaphore | None = None

    # ---- starting a turn ---------------------------------------------------------------

    async def _start(
        self, principal: Principal, message: str, project_id: str | None, session_id: str | None,
        agent: str | None, *, durable: bool, streaming: bool,
    ) -> ActiveRun:
        require_user(principal)
        agent_runtime.check_prompt(message)
        project_id, session_id, agent = project_id or None, session_id or None, agent or None
        if session_id:
            async with self.ctx.db.read() as s:
                acc = await load_session(s, principal, session_id)
                acc.owner_only("chatting in a session")
                acc.accepts_messages()
                project_id = project_id or acc.row.project_id
                agent = agent or acc.row.agent
        name = registry.route(message, agent)
        prepared = await agent_runtime.prepare_run(self.ctx, None, principal, name, message, project_id=project_id)
        async with self.ctx.db.transaction() as s:
            # Clock readings are counted: the demo's seeded clock moves on each one, so this
            # reads it as often as it always did (once more on a process's first turn).
            first_sweep = self._swept_at is None
            if first_sweep:
                await self._sweep(s, self.ctx.clock.now())
            if session_id:
                acc = await load_session(s, principal, session_id)
                acc.accepts_messages()
                session = acc.row
            else:
                session = await new_session(self.ctx, s, principal, title=_title_from(message), project_id=project_id,
                                            agent=agent)
            now = self.ctx.clock.now()
            if not first_sweep and self._sweep_due(now):
                await self._sweep(s, now)
            await self._lease.renew(s, now)  # with the run row: it is never seen without a live lease
            user_msg = ChatMessageRow(id=self.ctx.ids.new(), session_id=session.id, role="user", content=message,
                                      author_id=principal.user_id, author=principal.username, created_at=now,
                                      completed_at=now)
            reply = ChatMessageRow(id=self.ctx.ids.new(), session_id=session.id, role="assistant", agent=name,
                                   author=name, status="queued" if durable else "streaming",
                                   run_id=prepared.run_id, created_at=now)
            s.add_all([user_msg, reply])
            s.add(ChatRunRow(id=prepared.run_id, session_id=session.id, message_id=reply.id,
                             user_id=principal.user_id, username=principal.username, agent=name, project_id=project_id,
                             status="queued" if durable else "running", durable=durable, worker=self._worker,
                             created_at=now, started_at=None if durable else now))
            session.last_activity_id, session.last_message_at, session.updated_at = reply.id, now, now
            if not session.title:
                session.title = _title_from(message)
            # One event for the turn; the people it @mentions are in it, for the notifier.
            mentioned = await mentioned_readers(s, session.id, message, principal.user_id)
            await self.ctx.events.emit(s, principal, "chat.message_sent", "chat_session", session.id, project_id,
                                       user_id=session.owner_id, message_id=user_msg.id, reply_id=reply.id,
                                       run_id=prepared.run_id, agent=name, durable=durable,
                                       **({"mentioned_ids": mentioned, "title": session.title or "",
                                           "excerpt": message[:140]} if mentioned else {}))
        run = ActiveRun(run_id=prepared.run_id, session_id=session.id, message_id=reply.id,
                        user_message_id=user_msg.id, user_id=principal.user_id, username=principal.username,
                        agent=name, project_id=project_id, durable=durable, streaming=streaming, created_at=now,
                        started_at=None if durable else now, status="queued" if durable else "running")
        self._runs[run.run_id] = run
        self._lease.keep_alive(lambda: bool(self._runs))
        run.task = asyncio.get_running_loop().create_task(self._work(run, prepared), name=f"chat-run-{run.run_id}")
        return run

    # ---- running it ----------------------------------------------------------------------

    async def _acquire_slot(self, run: ActiveRun) -> bool:
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_CONCURRENT_RUNS)
        while not run.cancel.is_set():
            try:
                await asyncio.wait_for(self._slots.acquire(), timeout=0.1)
                return True
            except TimeoutError:
                continue
        return False

    async def _mark_running(self, run: ActiveRun) -> None:
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            await s.execute(update(ChatRunRow).where(col(ChatRunRow.id) == run.run_id)
                            .values(status="running", started_at=now))
            await s.execute(update(ChatMessageRow).where(col(ChatMessageRow.id) == run.message_id)
                            .values(status="streaming"))
        run.status, run.started_at = "running", now

    def _recorder(self, run: ActiveRun):
        async def record(s: AsyncSession, answer: agent_runtime.AgentAnswer) -> None:
            now = self.ctx.clock.now()
            status = "cancelled" if answer.cancelled else "complete"
            data = dict(answer.data)
            if not answer.cancelled:  # a reporter's reply is also kept as a report file (knowledge slice)
                made = await artifact_for_reply(self.ctx, s, run_id=run.run_id, agent=answer.agent, text=answer.text,
                                                project_id=run.project_id, owner=run.username,
                                                owner_id=run.user_id, at=now)
                if made is not None:
                    data.update(artifact_token=made.reference_token, artifact_filename=made.filename)
            msg = await s.get(ChatMessageRow, run.message_id)
            if msg is not None:
                msg.content, msg.status, msg.agent, msg.model = answer.text, status, answer.agent, answer.model
                msg.tokens_in, msg.tokens_out, msg.completed_at = answer.tokens_in, answer.tokens_out, now
                msg.sources, msg.data = list(answer.sources), data
            await s.execute(update(ChatRunRow).where(col(ChatRunRow.id) == run.run_id).values(
                status="cancelled" if answer.cancelled else "completed", finished_at=now))
            await s.execute(update(ChatSessionRow).where(col(ChatSessionRow.id) == run.session_id)
                            .values(updated_at=now))
            run.recorded = True
            run.reply = ChatReply(
                session_id=run.session_id, message_id=run.message_id, user_message_id=run.user_message_id,
                run_id=run.run_id, job_id=run.run_id if run.durable else None, agent=answer.agent, content=answer.text,
                status=status, model=answer.model, cached=answer.cached, sources=list(answer.sources),
                data=data, usage=ChatUsage(tokens_in=answer.tokens_in, tokens_out=answer.tokens_out))

        return record

    async def _work(self, run: ActiveRun, prepared: agent_runtime.PreparedRun) -> None:
        slot = False
        try:
            if run.durable:
                slot = await self._acquire_slot(run)
                if slot:
                    await self._mark_running(run)
            # Only a listener needs the reply in paced pieces; otherwise it is recorded at once.
            await prepared.execute(None, stream=run.push if run.streaming else None, cancel=run.cancel,
                                   chat_session_id=run.session_id, record=self._recorder(run))
        except asyncio.CancelledError:
            if not run.recorded:
                await self._fail(run, "cancelled before the agent started", status="cancelled")
        except CrewOSError as exc:
            await self._fail(run, exc.detail, code=exc.status_code)
        except Exception as exc:  # a bug must not leave the reply "streaming" forever
            log.exception("chat run %s failed", run.run_id)
            await self._fail(run, f"the agent failed: {exc.__class__.__name__}")
        finally:
            if slot and self._slots is not None:
                self._slots.release()
            self._runs.pop(run.run_id, None)
            self._completed += 1
            if run.reply is not None:
                run.queue.put_nowait(ChatStreamEvent(event="done", data=run.reply.model_dump(mode="json")))
            run.queue.put_nowait(None)
            run.done.set()

    async def _fail(self, run: ActiveRun, detail: str, *, status: str = "failed", code: int = 500) -> None:
        now = self.ctx.clock.now()
        try:
            async with self.ctx.db.transaction() as s:
                msg = await s.get(ChatMessageRow, run.message_id)
                if msg is not None:
                    msg.status, msg.error, msg.completed_at = status, detail, now
                await s.execute(update(ChatRunRow).where(col(ChatRunRow.id) == run.run_id).values(
                    status=status, error=detail, finished_at=now))
                await self.ctx.events.emit(s, Principal.system(), f"chat.run_{status}", "chat_session",
                                           run.session_id, run.project_id, user_id=run.user_id, run_id=run.run_id,
                                           agent=run.agent, error=detail)
        except Exception:
            log.exception("could not record the end of chat run %s", run.run_id)
        if status == "failed":
            run.error = error_for_status(code, detail)
            run.queue.put_nowait(ChatStreamEvent(event="error", data={"code": code, "message": detail}))
        else:
            run.reply = ChatReply(session_id=run.session_id, message_id=run.message_id,
                                  user_message_id=run.user_message_id, run_id=run.run_id, agent=run.agent,
                                  status=status, job_id=run.run_id if run.durable else None)

    def _sweep_due(self, now: datetime) -> bool:
        return self._swept_at is None or now - self._swept_at >= timedelta(seconds=SWEEP_SECONDS)

    async def _orphans(self, s: AsyncSession, now: datetime, *, forget: bool = False) -> list[ChatRunRow]:
        """Queued or running runs of other workers whose process is gone (``forget``: and
        delete those workers' lease rows; in a write transaction)."""
        rows = (await s.execute(select(ChatRunRow).where(col(ChatRunRow.status).in_(("queued", "running")),
                                                         col(ChatRunRow.worker) != self._worker))).scalars().all()
        gone = await gone_workers(s, {r.worker for r in rows}, now, forget=forget)
        return [r for r in rows if r.worker in gone]

    async def _sweep(self, s: AsyncSession, now: datetime) -> None:
        """Mark the runs of processes that are gone ``interrupted`` (in a write transaction)."""
        self._swept_at = now
        stale = await self._orphans(s, now, forget=True)
        for row in stale:
            row.status, row.error, row.finished_at = "interrupted", "the process running it stopped", now
            msg = await s.get(ChatMessageRow, row.message_id)
            if msg is not None:
                msg.status, msg.error, msg.completed_at = "interrupted", row.error, now
            await self.ctx.events.emit(s, Principal.system(), "chat.run_interrupted", "chat_session", row.session_id,
                                       row.project_id, user_id=row.user_id, run_id=row.id, agent=row.agent)
        self._interrupted += len(stale)
        await forget_expired(s, now)

    async def sweep(self) -> None:
        """Sweep now if it is due; a write only when there is something to mark."""
        now = self.ctx.clock.now()
        if not self._sweep_due(now):
            return
        async with self.ctx.db.read() as s:
            needed = bool(await self._orphans(s, now))
        if needed:
            async with self.ctx.db.transaction() as s:
                await self._sweep(s, now)
        else:
            self._swept_at = now

    async def close(self) -> None:
        """This process stops: its lease goes, so its unfinished runs are orphans at once."""
        await self._lease.release()

    # ---- the Backend methods -------------------------------------------------------------

    async def send(
        self,
        principal: Principal,
        message: str,
        project_id: str | None = None,
        session_id: str | None = None,
        agent: str | None = None,
        durable: bool = False,
    ) -> ChatReply:
        """Send a message and wait for the whole reply; ``durable`` answers at once with a job id."""
        run = await self._start(principal, message, project_id, session_id, agent, durable=durable, streaming=False)
        if durable:
            return ChatReply(session_id=run.session_id, message_id=run.message_id,
                             user_message_id=run.user_message_id, run_id=run.run_id, job_id=run.run_id,
                             agent=run.agent, status="queued")
        await run.done.wait()
        if run.reply is None:
            raise run.error or Unavailable("the agent failed; the reply is marked failed in the session")
        return run.reply

    async def stream(
        self,
        principal: Principal,
        message: str,
        project_id: str | None = None,
        session_id: str | None = None,
        agent: str | None = None,
    ) -> AsyncIterator[ChatStreamEvent]:
        """``start``, then ``token`` events as the reply is produced, then ``done`` (or ``error``).
        Stopping the iteration early cancels the run; the partial reply is kept, marked cancelled."""
        run = await self._start(principal, message, project_id, session_id, agent, durable=False, streaming=True)
        try:
            yield ChatStreamEvent(event="start", data={
                "session_id": run.session_id, "message_id": run.message_id, "run_id": run.run_id,
                "user_message_id": run.user_message_id, "agent": run.agent})
            while (event := await run.queue.get()) is not None:
                yield event
        finally:
            if not run.done.is_set():
                run.cancel.set()

    async def external_chat(self, principal: Principal, data: ChatRequest) -> ChatReply:
        """The same as ``send``, from a JSON body (external agent clients)."""
        return await self.send(principal, data.message, data.project_id, data.session_id, data.agent, data.durable)

    async def external_stream(self, principal: Principal, data: ChatRequest) -> AsyncIterator[ChatStreamEvent]:
        """The same as ``stream``, from a JSON body."""
        async for event in self.stream(principal, data.message, data.project_id, data.session_id, data.agent):
            yield event

    async def cancel(self, principal: Principal, id: str) -> ChatCancelResult:
        """Stop the active run named by its run id, reply message id or session id."""
        require_user(principal)
        run = self._runs.get(id) or next(
            (r for r in self._runs.values() if id in (r.message_id, r.session_id)), None)
        if run is not None and (run.user_id == principal.user_id or principal.is_admin):
            run.cancel.set()
            try:
                await asyncio.wait_for(asyncio.shield(run.done.wait()), CANCEL_GRACE)
            except TimeoutError:
                if run.task is not None:
                    run.task.cancel()
                await asyncio.wait_for(asyncio.shield(run.done.wait()), CANCEL_GRACE)
        async with self.ctx.db.read() as s:
            row = await s.get(ChatRunRow, id)
            if row is None:
                row = await s.scalar(select(ChatRunRow).where(
                    (col(ChatRunRow.message_id) == id) | (col(ChatRunRow.session_id) == id))
                    .order_by(col(ChatRunRow.id).desc()))
            if row is None or (row.user_id != principal.user_id and not principal.is_admin):
                raise NotFound(f"no chat run, reply or session {id} of yours")
            return ChatCancelResult(id=id, run_id=row.id, session_id=row.session_id, message_id=row.message_id,
                                    cancelled=row.status == "cancelled" and run is not None, status=row.status)

    async def orchestrator_status(self, principal: Principal) -> OrchestratorStatus:
        """Active runs (the caller's; everyone's for an admin), queue depth and counters."""
        require_user(principal)
        await self.sweep()
        runs = sorted(self._runs.values(), key=lambda r: r.run_id)
        mine = [r for r in runs if principal.is_admin or r.user_id == principal.user_id]
        st = self.ctx.settings
        model = st.llm_model if st.llm_base_url and st.llm_model else None
        return OrchestratorStatus(
            mode="model" if model else "builtin", model=model,
            agents=[a.name for a in registry.all_agents()], active_runs=[r.info() for r in mine],
            running=sum(r.status == "running" for r in runs), queue_depth=sum(r.status == "queued" for r in runs),
            max_concurrent_runs=MAX_CONCURRENT_RUNS, completed_runs=self._completed,
            interrupted_runs=self._interrupted,
        )
