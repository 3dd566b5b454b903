"""Ingest: a document (text, pasted or uploaded bytes, or a project document by
reference) split into entries that share one source file.

Small documents are ingested in the call. Large ones (over ``INLINE_BYTES`` or
``INLINE_SECTIONS``, or ``background=True``) are stored, marked ``ingesting`` and
handed to a durable ``knowledge_ingest`` job (``ingest_job.py``), whose progress is
the job's. Ingesting a file name that the namespace already has is a 409 unless
``replace`` is set; then the old entries (and their links) are replaced.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid, PayloadTooLarge
from ....principal import Principal
from ....schemas.knowledge import IngestResult, KnowledgeIngest
from ...context import ServiceContext
from ...idempotency import idempotent
from ...tables import AgentJobRow, KnowledgeEntryRow, KnowledgeFileRow
from .._common import require_user
from ..projects.extract import clean_filename
from .access import Scope, ensure_namespace, scope_of
from .convert import file_model
from .split import CONTENT_TYPES, Section, decode, detect_format, split_document
from .writes import EntryWriter

INLINE_BYTES = 256 * 1024
INLINE_SECTIONS = 300
#: Entries written per transaction by the background job.
BATCH = 250
JOB_KIND = "knowledge_ingest"
RETURNED_IDS = 500


@dataclass
class SourceDocument:
    filename: str
    content_type: str
    raw: bytes
    source: str = "upload"
    project_id: str | None = None
    document_id: str | None = None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def split_file(file: KnowledgeFileRow) -> list[Section]:
    fmt = detect_format(file.filename, file.content_type)
    return split_document(fmt, decode(file.filename, file.content), file.filename, file.max_chars)


async def add_sections(ctx: ServiceContext, s: AsyncSession, principal: Principal, file: KnowledgeFileRow,
                       sections: list[Section], start: int = 0) -> list[str]:
    writer = EntryWriter(ctx, s, principal)
    ids = []
    for position, sec in enumerate(sections, start):
        row = await writer.add(file.namespace, sec.title, sec.body, list(file.tags or []), file.visibility,
                               source_file_id=file.id, section=sec.path, position=position)
        ids.append(row.id)
    return ids


async def queue_job(ctx: ServiceContext, s: AsyncSession, principal: Principal, kind: str,
                    params: dict[str, object]) -> AgentJobRow:
    """Queue a durable job in the caller's transaction (as ``POST /agent-jobs`` would)."""
    from ..agent_jobs import job_event

    now = ctx.clock.now()
    row = AgentJobRow(id=ctx.ids.new(), kind=kind, status="queued", project_id=None, task_id=None, params=params,
                      message="queued", created_by_id=principal.user_id, created_by=principal.username,
                      created_at=now, updated_at=now)
    s.add(row)
    await s.flush()
    await job_event(ctx, s, principal, row, "created", f"{kind} queued")
    return row


class KnowledgeIngestion:
    ctx: ServiceContext

    async def _source(self, principal: Principal, data: KnowledgeIngest) -> SourceDocument:
        limit = self.ctx.settings.max_upload_bytes
        if data.content is not None:
            if len(data.content) > limit:  # characters ≤ bytes: a cheap early refusal
                raise PayloadTooLarge(f"the content is over the {limit}-byte ingest limit")
            return SourceDocument(data.filename or "", data.content_type or "", data.content.encode("utf-8"))
        if data.content_base64 is not None:
            if len(data.content_base64) * 3 // 4 > limit + 3:
                raise PayloadTooLarge(f"the file is over the {limit}-byte ingest limit")
            try:
                raw = base64.b64decode(data.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise Invalid("content_base64 is not valid base64") from None
            return SourceDocument(data.filename or "", data.content_type or "", raw)
        from ..projects.reference import read_document

        async with self.ctx.db.read() as s:
            doc = await read_document(s, principal, data.project_id or "", data.document_id or "")
        return SourceDocument(data.filename or doc.filename, doc.content_type, doc.content, "project_document",
                              doc.project_id, doc.document_id)

    @idempotent(IngestResult)
    async def ingest(self, principal: Principal, data: KnowledgeIngest) -> IngestResult:
        """Split a document into entries (see the module docstring)."""
        require_user(principal)
        doc = await self._source(principal, data)
        limit = self.ctx.settings.max_upload_bytes
        if len(doc.raw) > limit:
            raise PayloadTooLarge(f"{doc.filename}: {len(doc.raw)} bytes is over the {limit}-byte ingest limit")
        filename = clean_filename(doc.filename)
        fmt = detect_format(filename, doc.content_type)
        text = decode(filename, doc.raw)
        if not text.strip():
            raise Invalid(f"{filename}: there is no text to ingest")
        # Splitting a large document is CPU work: keep the event loop (and the UI) free.
        sections = await asyncio.to_thread(split_document, fmt, text, filename, data.max_chars)
        if not sections:
            raise Invalid(f"{filename}: there is no text to ingest")
        background = data.background if data.background is not None else (
            len(doc.raw) > INLINE_BYTES or len(sections) > INLINE_SECTIONS)
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            file, replaced = await self._file_for(s, scope, principal, data, doc, filename, fmt)
            if background:
                file.status = "ingesting"
                job = await queue_job(self.ctx, s, principal, JOB_KIND, {"file_id": file.id})
                file.job_id = job.id
                await self.ctx.events.emit(s, principal, "knowledge.ingest_queued", "knowledge_file", file.id,
                                           doc.project_id, namespace=file.namespace, filename=filename,
                                           job_id=job.id, user_id=principal.user_id)
                return IngestResult(status="queued", file=file_model(file), replaced_entries=replaced,
                                    job_id=job.id)
            ids = await add_sections(self.ctx, s, principal, file, sections)
            file.entry_count, file.status, file.error = len(ids), "ready", None
            await self.ctx.events.emit(s, principal, "knowledge.ingested", "knowledge_file", file.id, doc.project_id,
                                       namespace=file.namespace, filename=filename, entries=len(ids),
                                       replaced=replaced, user_id=principal.user_id)
            return IngestResult(status="ingested", file=file_model(file), entries_created=len(ids),
                                entry_ids=ids[:RETURNED_IDS], replaced_entries=replaced)

    async def _file_for(self, s: AsyncSession, scope: Scope, principal: Principal, data: KnowledgeIngest,
                        doc: SourceDocument, filename: str, fmt: str) -> tuple[KnowledgeFileRow, int]:
        """The file row to ingest into: a new one, or the replaced one emptied."""
        now = self.ctx.clock.now()
        await ensure_namespace(s, scope, data.namespace, now)
        fields = {"content_type": CONTENT_TYPES[fmt], "size": len(doc.raw), "content": doc.raw,
                  "content_hash": doc.digest, "visibility": data.visibility.value, "source": doc.source,
                  "project_id": doc.project_id, "document_id": doc.document_id, "tags": list(data.tags),
                  "max_chars": data.max_chars, "updated_at": now, "job_id": None, "error": None}
        file = await s.scalar(select(KnowledgeFileRow).where(col(KnowledgeFileRow.namespace) == data.namespace,
                                                             col(KnowledgeFileRow.filename) == filename))
        if file is None:
            file = KnowledgeFileRow(id=self.ctx.ids.new(), namespace=data.namespace, filename=filename,
                                    created_by=principal.username, created_by_id=principal.user_id, created_at=now,
                                    **fields)
            s.add(file)
            await s.flush()
            return file, 0
        if file.status == "ingesting":
            raise Conflict(f"{filename} is being ingested right now (job {file.job_id}); wait for it to finish")
        if not data.replace:
            same = file.content_hash == doc.digest
            raise Conflict(f"{filename} is already in namespace {data.namespace!r}"
                           + (" with exactly this content" if same else "; pass replace=true to replace it"))
        replaced = int(await s.scalar(select(func.count()).select_from(KnowledgeEntryRow)
                                      .where(col(KnowledgeEntryRow.source_file_id) == file.id)) or 0)
        await s.execute(delete(KnowledgeEntryRow).where(col(KnowledgeEntryRow.source_file_id) == file.id))
        for key, value in fields.items():
            setattr(file, key, value)
        file.entry_count = 0
        return file, replaced
