"""Durable agent jobs: the registry of job kinds and the runner that executes them.

**Kinds.** ``register_job_kind(name, handler, prepare=...)`` adds a kind. ``prepare``
checks a create request (permissions, ids, params) inside the create transaction;
``handler(ctx: JobContext)`` does the work and returns the result payload. The
built-in kinds (``job_kinds.py``) register themselves on first use.

**Runner.** One per process that owns the database (the TUI in local mode, the
server), started by ``Services.start_background()``. It *claims* a job with one
conditional UPDATE in a write transaction (SQLite's BEGIN IMMEDIATE serializes
writers across processes): status ``queued``, or ``running`` with a lease that ran
out, becomes ``running`` with this runner as ``lease_owner`` and a lease expiry.
While it works it renews the lease (heartbeat); every write it makes checks it
still holds the lease, so two processes on one data dir never run one job at once.

**Restart.** A job left ``running`` by a process that died keeps its lease until the
lease expires; then any runner re-queues it (it runs again from the start) until
it has been attempted ``max_attempts`` times (by default the admin's pipeline policy:
``max_retries`` + 1), after which it is marked failed with reason "interrupted".
A job running longer than the policy's ``job_timeout_seconds`` is stopped and failed.
A runner that stops cleanly puts its running jobs back in the queue at once (without
counting the attempt). Handlers are written to be safe to run again.

**A busy database is not a failure.** A step that meets SQLITE_BUSY past the
database's own retries (``DatabaseLocked``; see ``db.py``) runs the handler again after a
doubling pause, up to ``transient_retries`` times, keeping the lease; each retry is a
``progress`` event ("the database was busy; trying again"). Only then is the job failed,
with the one-line busy message. ``_finish`` retries the same way, so a job's outcome
is not lost to a busy moment.

**Cancel.** ``cancel`` marks a running job ``cancel_requested``. The runner in this
process hears the domain event and cancels the job's asyncio task at once; a runner
in another process sees the flag at its next heartbeat. Handlers also call
``await ctx.checkpoint()`` between steps, which raises ``JobCancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..errors import CrewOSError, DatabaseLocked, Invalid, NotFound
from ..principal import Principal
from ..schemas.agent_jobs import AgentJobCreate
from ..schemas.auth import Role
from . import sqlite_errors
from .db import is_transient
from .services.agent_jobs import job_event
from .tables import AgentJobRow, UserRow

if TYPE_CHECKING:
    from .context import ServiceContext
    from .events import DomainEvent
    from .services import Services

log = logging.getLogger(__name__)

#: The principal the runner records its own bookkeeping (claims, re-queues) as.
RUNNER = Principal(user_id=None, username="job-runner", team="", role=Role.admin, auth_method="system")


class JobCancelled(Exception):
    """Raised by ``JobContext.checkpoint`` once the job has been asked to stop."""


@dataclass(frozen=True)
class PreparedJob:
    project_id: str | None = None
    task_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


Prepare = Callable[["ServiceContext", AsyncSession, Principal, AgentJobCreate], Awaitable[PreparedJob]]
OnQueued = Callable[["ServiceContext", AsyncSession, Principal, AgentJobRow], Awaitable[None]]
Handler = Callable[["JobContext"], Awaitable[dict[str, Any] | None]]


async def _no_prepare(_ctx: ServiceContext, _s: AsyncSession, _p: Principal, data: AgentJobCreate) -> PreparedJob:
    return PreparedJob(data.project_id, data.task_id, dict(data.params))


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    prepare: Prepare = _no_prepare
    on_queued: OnQueued | None = None
    description: str = ""


_KINDS: dict[str, JobKind] = {}
_builtins_loaded = False


def register_job_kind(name: str, handler: Handler, *, prepare: Prepare | None = None,
                      on_queued: OnQueued | None = None, description: str = "") -> JobKind:
    """Add (or replace) a job kind. Other slices call this at import time."""
    kind = JobKind(name, handler, prepare or _no_prepare, on_queued, description)
    _KINDS[name] = kind
    return kind


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from . import job_kinds  # noqa: F401 - registers the built-in kinds


def supported_kinds() -> list[str]:
    _load_builtins()
    return sorted(_KINDS)


def job_kind(name: str) -> JobKind:
    """The kind called ``name``, or 422 listing the supported ones."""
    _load_builtins()
    kind = _KINDS.get(name.strip())
    if kind is None:
        raise Invalid(f"unknown job kind {name!r}; supported: {', '.join(supported_kinds())}")
    return kind


# ---- what a handler sees ----------------------------------------------------------------


class LeaseLost(Exception):
    """Another runner owns the job now; this one must stop without writing."""


class JobContext:
    """A running job: its row as claimed, who asked for it, and ways to report."""

    def __init__(self, runner: JobRunner, job: AgentJobRow, principal: Principal) -> None:
        self.runner = runner
        self.services: Services = runner.services
        self.job = job
        self.principal = principal
        self.params: dict[str, Any] = dict(job.params or {})
        self.cancel_requested = False

    @property
    def ctx(self) -> ServiceContext:
        return self.services.ctx

    async def checkpoint(self) -> None:
        """Between steps: stop here if the job was cancelled."""
        if self.cancel_requested:
            raise JobCancelled()
        await asyncio.sleep(0)

    async def progress(self, percent: int, message: str = "", **data: Any) -> None:
        """Record progress (0..100) and a message; also a cancellation point."""
        await self.checkpoint()
        percent = max(0, min(100, int(percent)))
        async with self.ctx.db.transaction() as s:
            row = await self.runner._owned(s, self.job.id)
            row.progress, row.message = percent, message
            row.heartbeat_at = row.updated_at = self.ctx.clock.now()
            await job_event(self.ctx, s, self.principal, row, "progress", message, percent, **data)
        await self.checkpoint()


# ---- the runner -------------------------------------------------------------------------


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class _Running:
    job_id: str
    context: JobContext
    task: asyncio.Task[Any]
    stopping: bool = False  # the runner is shutting down: give the job back


class JobRunner:
    def __init__(
        self,
        services: Services,
        *,
        owner: str | None = None,
        lease_seconds: float = 30.0,
        poll_seconds: float = 2.0,
        concurrency: int = 2,
        max_attempts: int | None = None,
        transient_retries: int = 5,
        transient_backoff: float = 1.0,
    ) -> None:
        self.services = services
        self.owner = owner or _owner_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.heartbeat_seconds = max(lease_seconds / 3, 0.05)
        self.poll_seconds = poll_seconds
        self.concurrency = max(1, concurrency)
        # None: follow the pipeline policy (read at each claim and sweep).
        self._fixed_attempts = max(1, max_attempts) if max_attempts is not None else None
        self.max_attempts = self._fixed_attempts or 3
        self.job_timeout: float | None = None
        #: A busy database: how often a job (or recording its end) is tried again, and the
        #: first pause (s), doubling.
        self.transient_retries = max(0, transient_retries)
        self.transient_backoff = transient_backoff
        self._running: dict[str, _Running] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def ctx(self) -> ServiceContext:
        return self.services.ctx

    @property
    def running_job_ids(self) -> list[str]:
        return list(self._running)

    # ---- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what a dead process left, then work in the background."""
        if self._loop_task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.ctx.events.subscribe(self._on_event)
        await self.sweep()
        self._loop_task = asyncio.create_task(self._work_loop(), name=f"job-runner {self.owner}")

    async def stop(self) -> None:
        """Stop claiming; hand running jobs back to the queue."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        running = list(self._running.values())
        for r in running:
            r.stopping = True
            r.task.cancel()
        for r in running:
            with contextlib.suppress(BaseException):
                await r.task

    def _on_event(self, event: DomainEvent) -> None:
        # After-commit listener; may be called from another thread: hop onto our loop.
        if self._loop is None or event.resource_type != "agent_job":
            return
        if event.kind in ("agent_job.created", "agent_job.requeued"):
            self._loop.call_soon_threadsafe(self._wake.set)
        elif event.kind == "agent_job.cancel_requested":
            self._loop.call_soon_threadsafe(self._cancel_local, event.resource_id)

    def _cancel_local(self, job_id: str) -> None:
        running = self._running.get(job_id)
        if running is not None:
            running.context.cancel_requested = True
            running.task.cancel()

    async def _anything_to_do(self) -> bool:
        """One cheap read: a queued job, or a running one whose lease ran out?"""
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as s:
            return await s.scalar(select(col(AgentJobRow.id)).where(or_(
                col(AgentJobRow.status) == "queued",
                and_(col(AgentJobRow.status) == "running",
                     col(AgentJobRow.lease_expires_at) < now))).limit(1)) is not None

    async def _work_loop(self) -> None:
        while True:
            try:
                if len(self._running) < self.concurrency and await self._anything_to_do():  # idle: one read
                    await self.sweep()
                    while len(self._running) < self.concurrency:
                        job = await self.claim()
                        if job is None:
                            break
                        self._launch(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a busy database or a bug must not kill the runner
                if is_transient(exc):
                    log.warning("job runner: the database is busy; trying again in %g s", self.poll_seconds)
                else:
                    log.exception("job runner loop failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    # ---- claiming and recovering ---------------------------------------------------------

    def _claimable(self, now: Any) -> Any:
        expired = and_(col(AgentJobRow.status) == "running", col(AgentJobRow.lease_expires_at) < now,
                       col(AgentJobRow.attempts) < self.max_attempts, col(AgentJobRow.cancel_requested).is_(False))
        return or_(col(AgentJobRow.status) == "queued", expired)

    async def claim(self) -> AgentJobRow | None:
        """Take the oldest claimable job, atomically; None when there is none."""
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as s:  # an idle runner never takes the write lock
            await self._follow_policy(s)
            pick = select(col(AgentJobRow.id)).where(self._claimable(now)).order_by(col(AgentJobRow.id)).limit(1)
            if await s.scalar(pick) is None:
                return None
        async with self.ctx.db.transaction() as s:
            candidate = await s.scalar(pick)
            if candidate is None:
                return None
            result = await s.execute(
                update(AgentJobRow)
                .where(col(AgentJobRow.id) == candidate, self._claimable(now))
                .values(status="running", lease_owner=self.owner, lease_expires_at=now + self.lease,
                        heartbeat_at=now, attempts=col(AgentJobRow.attempts) + 1, message="started", updated_at=now,
                        started_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            job = await s.get(AgentJobRow, candidate, populate_existing=True)
            assert job is not None
            await job_event(self.ctx, s, RUNNER, job, "started", f"attempt {job.attempts} on {self.owner}",
                            attempt=job.attempts, owner=self.owner)
            return job

    async def sweep(self) -> int:
        """Jobs whose runner died: re-queue them, or fail them "interrupted" after
        ``max_attempts``; a cancel nobody acted on becomes ``cancelled``."""
        now = self.ctx.clock.now()
        changed = 0
        expired = select(AgentJobRow).where(col(AgentJobRow.status) == "running",
                                            col(AgentJobRow.lease_expires_at) < now)
        async with self.ctx.db.read() as s:
            await self._follow_policy(s)
            if await s.scalar(select(expired.subquery().c.id).limit(1)) is None:
                return 0
        async with self.ctx.db.transaction() as s:
            stale = (await s.scalars(expired)).all()
            for job in stale:
                changed += 1
                job.lease_owner = job.lease_expires_at = None
                job.updated_at = now
                if job.cancel_requested:
                    job.status, job.finished_at, job.message = "cancelled", now, "cancelled"
                    await job_event(self.ctx, s, RUNNER, job, "cancelled", "cancelled (its runner had stopped)")
                elif job.attempts >= self.max_attempts:
                    job.status, job.finished_at, job.error, job.message = "failed", now, "interrupted", "interrupted"
                    await job_event(self.ctx, s, RUNNER, job, "failed",
                                    f"interrupted: its runner stopped {job.attempts} times")
                else:
                    job.status, job.message = "queued", "re-queued after an interruption"
                    await job_event(self.ctx, s, RUNNER, job, "requeued",
                                    "its runner stopped without finishing; queued again")
        if changed:
            self._wake.set()
        return changed

    async def _follow_policy(self, s: AsyncSession) -> None:
        """Attempts and timeout from the admin's pipeline policy (admin slice)."""
        from .services.admin.pipeline import pipeline_policy

        policy = await pipeline_policy(s)
        self.max_attempts = self._fixed_attempts or policy.max_retries + 1
        self.job_timeout = float(policy.job_timeout_seconds)

    # ---- running one job -------------------------------------------------------------------

    async def _owned(self, s: AsyncSession, job_id: str) -> AgentJobRow:
        """The job row, if this runner still holds its lease (else ``LeaseLost``)."""
        row = await s.get(AgentJobRow, job_id, populate_existing=True)
        if row is None or row.status != "running" or row.lease_owner != self.owner:
            raise LeaseLost(job_id)
        return row

    async def _principal_of(self, job: AgentJobRow) -> Principal:
        if job.created_by_id is None:
            return Principal.system()
        async with self.ctx.db.read() as s:
            user = await s.get(UserRow, job.created_by_id)
        if user is None or user.disabled:
            raise NotFound(f"the user who queued job {job.id} no longer exists or is disabled")
        from .services.auth import principal_for_user

        return principal_for_user(user, auth_method="system")

    def _launch(self, job: AgentJobRow) -> None:
        # Registered before the task starts, so a cancel that arrives at once finds it.
        context = JobContext(self, job, RUNNER)  # the principal is looked up in _execute
        task = asyncio.create_task(self._execute(job, context), name=f"job {job.id} ({job.kind})")
        self._running[job.id] = _Running(job.id, context, task)

    async def run_one(self) -> str | None:
        """Claim and run one job to the end (tests, benchmarks); its id, or None."""
        job = await self.claim()
        if job is None:
            return None
        self._launch(job)
        with contextlib.suppress(BaseException):
            await self._running[job.id].task
        return job.id

    async def _execute(self, job: AgentJobRow, context: JobContext) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(job.id, context))
        try:
            try:
                async with asyncio.timeout(self.job_timeout):
                    result = await self._run_handler(job, context)
            except TimeoutError:
                await self._finish(job.id, "failed", None,
                                   f"timed out after {self.job_timeout:g} s (the pipeline policy's job timeout)")
            except (JobCancelled, asyncio.CancelledError):
                running = self._running.get(job.id)
                if running is not None and running.stopping:
                    await self._finish(job.id, "queued", None, None)
                elif context.cancel_requested:
                    await self._finish(job.id, "cancelled", None, None)
                # else: the lease was lost; the new owner records the outcome
            except LeaseLost:
                log.warning("job %s: lease lost; another runner has it", job.id)
            except CrewOSError as exc:
                await self._finish(job.id, "failed", None, exc.detail)
            except Exception as exc:  # noqa: BLE001 - a failed job, not a crashed runner
                log.exception("job %s (%s) failed", job.id, job.kind)
                await self._finish(job.id, "failed", None, f"{type(exc).__name__}: {exc}")
            else:
                await self._finish(job.id, "succeeded", result or {}, None)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(BaseException):
                await heartbeat
            self._running.pop(job.id, None)
            self._wake.set()

    async def _run_handler(self, job: AgentJobRow, context: JobContext) -> dict[str, Any] | None:
        """The job's handler, run again (bounded) while the database is busy."""
        tries = 0
        while True:
            try:
                context.principal = await self._principal_of(job)
                if job.cancel_requested:
                    raise JobCancelled()
                return await job_kind(job.kind).handler(context)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if tries >= self.transient_retries:
                    if isinstance(exc, DatabaseLocked):
                        raise
                    raise sqlite_errors.locked(self.ctx.db.path) from exc
                tries += 1
                log.warning("job %s: the database was busy; trying again (%d of %d)", job.id, tries,
                            self.transient_retries)
            await self._note_busy(job.id, context, tries)
            await asyncio.sleep(self.transient_backoff * 2 ** (tries - 1))
            await context.checkpoint()

    async def _note_busy(self, job_id: str, context: JobContext, tries: int) -> None:
        message = f"the database was busy; trying again ({tries} of {self.transient_retries})"
        try:
            async with self.ctx.db.transaction() as s:
                row = await self._owned(s, job_id)
                row.message, row.updated_at = message, self.ctx.clock.now()
                await job_event(self.ctx, s, context.principal, row, "progress", message, row.progress,
                                busy_retry=tries)
        except Exception as exc:  # still busy: the retry itself is what matters
            if not is_transient(exc):
                raise

    async def _finish(self, job_id: str, status: str, result: dict[str, Any] | None, error: str | None) -> None:
        for tries in range(self.transient_retries + 1):
            try:
                await self._record_end(job_id, status, result, error)
                return
            except Exception as exc:
                if not is_transient(exc) or tries >= self.transient_retries:
                    raise
                log.warning("job %s: the database was busy recording its end; trying again", job_id)
            await asyncio.sleep(self.transient_backoff * 2 ** tries)

    async def _record_end(self, job_id: str, status: str, result: dict[str, Any] | None, error: str | None) -> None:
        now = self.ctx.clock.now()
        try:
            async with self.ctx.db.transaction() as s:
                row = await self._owned(s, job_id)
                row.lease_owner = row.lease_expires_at = None
                row.updated_at = now
                if status == "queued":  # shutting down: give it back, the attempt does not count
                    row.status, row.message, row.attempts = "queued", "queued again (runner stopped)", \
                        max(row.attempts - 1, 0)
                    await job_event(self.ctx, s, RUNNER, row, "requeued", "its runner stopped; queued again")
                    return
                row.status, row.finished_at, row.error, row.result = status, now, error, result
                if status == "succeeded":
                    row.progress, row.message = 100, "done"
                else:
                    row.message = error or status
                await job_event(self.ctx, s, RUNNER, row, status, error or status)
        except LeaseLost:
            log.warning("job %s finished after its lease was lost; outcome %s dropped", job_id, status)

    async def _heartbeat(self, job_id: str, context: JobContext) -> None:
        """Renew the lease; notice a cancel (from any process) or a lost lease."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                held, cancel = await self._renew(job_id)
            except Exception as exc:  # a busy database: try again next beat, the lease has slack
                if is_transient(exc):
                    log.warning("job %s: heartbeat waited for a busy database; next beat", job_id)
                else:
                    log.exception("job %s: heartbeat failed", job_id)
                continue
            running = self._running.get(job_id)
            if running is None:
                return
            if not held:
                running.task.cancel()  # someone else owns it now: stop without writing
                return
            if cancel and not context.cancel_requested:
                context.cancel_requested = True
                running.task.cancel()

    async def _renew(self, job_id: str) -> tuple[bool, bool]:
        """Extend the lease; (still held, cancel requested)."""
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            result = await s.execute(
                update(AgentJobRow)
                .where(col(AgentJobRow.id) == job_id, col(AgentJobRow.lease_owner) == self.owner,
                       col(AgentJobRow.status) == "running")
                .values(heartbeat_at=now, lease_expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            held = result.rowcount == 1  # type: ignore[attr-defined]
            cancel = held and bool(await s.scalar(select(col(AgentJobRow.cancel_requested))
                                                  .where(col(AgentJobRow.id) == job_id)))
        return held, cancel
