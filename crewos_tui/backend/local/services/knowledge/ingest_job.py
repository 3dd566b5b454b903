"""The ``knowledge_ingest`` durable job: split a stored source file into entries in
batches, reporting progress. Safe to run again: it first removes what an earlier,
interrupted attempt wrote. Registered with ``jobs.register_job_kind`` when the
knowledge service is created."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlmodel import col

from ....errors import Invalid, NotFound
from ....principal import Principal
from ...tables import KnowledgeEntryRow, KnowledgeFileRow
from .access import scope_of
from .ingest import BATCH, JOB_KIND, add_sections, split_file

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from ....schemas.agent_jobs import AgentJobCreate
    from ...context import ServiceContext
    from ...jobs import JobContext, PreparedJob

log = logging.getLogger(__name__)

async def prepare(ctx: ServiceContext, s: AsyncSession, principal: Principal, data: AgentJobCreate) -> PreparedJob:
    """A ``knowledge_ingest`` job queued through ``POST /agent-jobs``: ``params.file_id``."""
    from ...jobs import PreparedJob

    file_id = data.params.get("file_id")
    if not isinstance(file_id, str) or not file_id:
        raise Invalid("a knowledge_ingest job needs params.file_id (a knowledge file group)")
    scope = await scope_of(s, principal)
    file = await s.get(KnowledgeFileRow, file_id)
    if file is None or not scope.can_read(file.namespace):
        raise NotFound(f"knowledge file {file_id} not found")
    scope.require_write(file.namespace)
    return PreparedJob(None, None, {"file_id": file_id})


async def _set_status(ctx: ServiceContext, file_id: str, status: str, error: str | None = None) -> None:
    async with ctx.db.transaction() as s:
        file = await s.get(KnowledgeFileRow, file_id)
        if file is not None:
            file.status, file.error, file.updated_at = status, error, ctx.clock.now()


async def run(job: JobContext) -> dict[str, Any]:
    ctx, principal = job.ctx, job.principal
    file_id = str(job.params.get("file_id", ""))
    async with ctx.db.read() as s:
        scope = await scope_of(s, principal)
        file = await s.get(KnowledgeFileRow, file_id)
        if file is None or not scope.can_read(file.namespace):
            raise NotFound(f"knowledge file {file_id} not found (deleted while queued?)")
        scope.require_write(file.namespace)
    try:
        await job.progress(2, f"splitting {file.filename}")
        sections = await asyncio.to_thread(split_file, file)
        async with ctx.db.transaction() as s:  # a re-run starts clean
            await s.execute(delete(KnowledgeEntryRow).where(col(KnowledgeEntryRow.source_file_id) == file_id))
            row = await s.get(KnowledgeFileRow, file_id)
            if row is None:
                raise NotFound(f"knowledge file {file_id} was deleted")
            row.status, row.entry_count = "ingesting", 0
        done = 0
        for start in range(0, len(sections), BATCH):
            await job.checkpoint()
            batch = sections[start:start + BATCH]
            async with ctx.db.transaction() as s:
                row = await s.get(KnowledgeFileRow, file_id)
                if row is None:
                    raise NotFound(f"knowledge file {file_id} was deleted")
                await add_sections(ctx, s, principal, row, batch, start)
                done += len(batch)
                row.entry_count = done
            await job.progress(5 + 90 * done // max(len(sections), 1), f"{done} of {len(sections)} entries")
        async with ctx.db.transaction() as s:
            row = await s.get(KnowledgeFileRow, file_id)
            if row is None:
                raise NotFound(f"knowledge file {file_id} was deleted")
            row.status, row.error, row.updated_at = "ready", None, ctx.clock.now()
            await ctx.events.emit(s, principal, "knowledge.ingested", "knowledge_file", file_id, row.project_id,
                                  namespace=row.namespace, filename=row.filename, entries=done, job_id=job.job.id,
                                  user_id=principal.user_id)
        return {"file_id": file_id, "namespace": file.namespace, "filename": file.filename, "entries_created": done}
    except BaseException as exc:
        # Cancelled, failed or interrupted: the file says so (a re-run resets it).
        reason = "cancelled" if not isinstance(exc, Exception) or type(exc).__name__ == "JobCancelled" else str(exc)
        try:
            await asyncio.shield(_set_status(ctx, file_id, "failed", reason or type(exc).__name__))
        except Exception:  # the job's own outcome is what matters; note this one
            log.exception("knowledge file %s: could not mark the failed ingest", file_id)
        raise


def register() -> None:
    from ...jobs import register_job_kind

    register_job_kind(JOB_KIND, run, prepare=prepare,
                      description="Split a large knowledge source file into entries, in batches, with progress.")
