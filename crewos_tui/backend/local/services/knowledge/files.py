"""Source files: entries grouped by the file they were ingested from — list, delete a
group, show or hide it, and download an entry's source file."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas import Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.knowledge import (
    KnowledgeFile,
    KnowledgeFileContent,
    KnowledgeFileDeleted,
    KnowledgeFileVisibility,
)
from ...context import ServiceContext
from ...pagination import paginate
from ...tables import KnowledgeEntryRow, KnowledgeFileRow, orm_attr
from .access import Scope, load_entry, scope_of
from .convert import file_model


async def find_file(s: AsyncSession, scope: Scope, file_id: str | None, namespace: str | None,
                    filename: str | None) -> KnowledgeFileRow:
    """A file group by id, or by namespace and file name; 404 when the caller cannot see it."""
    if file_id:
        row = await s.get(KnowledgeFileRow, file_id)
        if row is None or not scope.can_read(row.namespace):
            raise NotFound(f"knowledge file {file_id} not found")
        return row
    if not (namespace and filename):
        raise Invalid("say which file group: file_id, or namespace and filename")
    scope.require_read(namespace)
    row = await s.scalar(select(KnowledgeFileRow).where(col(KnowledgeFileRow.namespace) == namespace,
                                                        col(KnowledgeFileRow.filename) == filename))
    if row is None:
        raise NotFound(f"no file {filename!r} in namespace {namespace!r}")
    return row


class KnowledgeFiles:
    ctx: ServiceContext

    async def list_files(
        self, principal: Principal, namespace: str | None = None, limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[KnowledgeFile]:
        """File groups in the caller's namespaces, newest first."""
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            stmt = (select(KnowledgeFileRow).options(defer(orm_attr(KnowledgeFileRow.content)))
                    .where(scope.where(col(KnowledgeFileRow.namespace), [namespace] if namespace else None)))
            return await paginate(s, stmt, [col(KnowledgeFileRow.id)], lambda r: [r.id], file_model,
                                  limit=limit, cursor=cursor, descending=True)

    async def delete_file(
        self, principal: Principal, file_id: str | None = None, namespace: str | None = None,
        filename: str | None = None,
    ) -> KnowledgeFileDeleted:
        """Delete a file group: the file and every entry ingested from it."""
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            row = await find_file(s, scope, file_id, namespace, filename)
            scope.require_write(row.namespace)
            if row.status == "ingesting":
                raise Conflict(f"{row.filename} is being ingested (job {row.job_id}); cancel the job first")
            count = int(await s.scalar(select(func.count()).select_from(KnowledgeEntryRow)
                                       .where(col(KnowledgeEntryRow.source_file_id) == row.id)) or 0)
            await s.execute(delete(KnowledgeEntryRow).where(col(KnowledgeEntryRow.source_file_id) == row.id))
            await s.execute(delete(KnowledgeFileRow).where(col(KnowledgeFileRow.id) == row.id))
            await self.ctx.events.emit(s, principal, "knowledge.file_deleted", "knowledge_file", row.id,
                                       row.project_id, namespace=row.namespace, filename=row.filename,
                                       entries=count, user_id=row.created_by_id)
            return KnowledgeFileDeleted(id=row.id, namespace=row.namespace, filename=row.filename,
                                        entries_deleted=count)

    async def set_file_visibility(self, principal: Principal, data: KnowledgeFileVisibility) -> KnowledgeFile:
        """Show or hide a file group: hidden entries are kept but not searched or retrieved."""
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            row = await find_file(s, scope, data.file_id, data.namespace, data.filename)
            scope.require_write(row.namespace)
            value = data.visibility.value
            if row.visibility != value:
                row.visibility, row.updated_at = value, self.ctx.clock.now()
                await s.execute(update(KnowledgeEntryRow).where(col(KnowledgeEntryRow.source_file_id) == row.id)
                                .values(visibility=value).execution_options(synchronize_session=False))
                await self.ctx.events.emit(s, principal, "knowledge.file_visibility_changed", "knowledge_file",
                                           row.id, row.project_id, namespace=row.namespace, filename=row.filename,
                                           visibility=value, user_id=row.created_by_id)
            return file_model(row)

    async def download_file(self, principal: Principal, entry_id: str) -> KnowledgeFileContent:
        """The source file an entry was ingested from."""
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            entry = await load_entry(s, scope, entry_id)
            if not entry.source_file_id:
                raise NotFound(f"entry {entry_id} was written directly, not ingested from a file")
            file = await s.get(KnowledgeFileRow, entry.source_file_id)
            if file is None:
                raise NotFound(f"the source file of entry {entry_id} no longer exists")
            return KnowledgeFileContent(filename=file.filename, content_type=file.content_type, size=file.size,
                                        content=bytes(file.content))
