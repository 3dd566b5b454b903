"""Scaffold items, folders, folder updates (proposals) and documents."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound, PayloadTooLarge
from ....principal import Principal
from ....schemas import Document, Folder, FolderUpdate, Page, ScaffoldItem
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.projects import FolderUpdateCreate
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import DocumentRow, FolderRow, FolderUpdateRow, ScaffoldItemRow, orm_attr
from .access import ProjectAccess, load_project
from .extract import clean_filename, clean_folder_path, content_type_for, extract_text


def document_model(row: DocumentRow) -> Document:
    return Document(
        id=row.id, project_id=row.project_id, folder_path=row.folder_path, filename=row.filename,
        content_type=row.content_type, size=row.size, content_hash=row.content_hash, text_chars=len(row.text),
        status=row.status, uploaded_by=row.uploaded_by, created_at=row.created_at, ingested_at=row.ingested_at,
        ingest_count=row.ingest_count,
    )


def _under(path: str):  # noqa: ANN202
    """The folder at ``path`` and everything below it."""
    return or_(col(FolderRow.path) == path, col(FolderRow.path).startswith(path + "/", autoescape=True))


class ProjectFiles:
    ctx: ServiceContext

    async def list_scaffold_items(
        self, principal: Principal, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ScaffoldItem]:
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            stmt = select(ScaffoldItemRow).where(col(ScaffoldItemRow.project_id) == project_id)
            return await paginate(s, stmt, [col(ScaffoldItemRow.id)], lambda r: [r.id], ScaffoldItem.model_validate,
                                  limit=limit, cursor=cursor)

    async def list_folders(
        self, principal: Principal, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Folder]:
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            stmt = select(FolderRow).where(col(FolderRow.project_id) == project_id)
            return await paginate(s, stmt, [col(FolderRow.path)], lambda r: [r.path], Folder.model_validate,
                                  limit=limit, cursor=cursor)

    # ---- folder updates ------------------------------------------------------------

    async def propose_folder_update(
        self, principal: Principal, project_id: str, data: FolderUpdateCreate
    ) -> FolderUpdate:
        """Propose a folder change for an editor to approve (agents and the planner use this)."""
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.writable()
            path = clean_folder_path(data.path)
            new_path = clean_folder_path(data.new_path) if data.new_path else None
            if data.action.value == "rename" and not new_path:
                raise Invalid("a rename needs new_path")
            if data.action.value != "rename" and new_path:
                raise Invalid("new_path is only for a rename")
            row = FolderUpdateRow(id=self.ctx.ids.new(), project_id=project_id, action=data.action.value, path=path,
                                  new_path=new_path, reason=data.reason, proposed_by=principal.username,
                                  created_at=self.ctx.clock.now())
            s.add(row)
            await self.ctx.events.emit(s, principal, "project.folder_update_proposed", "folder_update", row.id,
                                       project_id, action=row.action, path=path, new_path=new_path)
            return FolderUpdate.model_validate(row)

    async def list_folder_updates(
        self,
        principal: Principal,
        project_id: str,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
    ) -> Page[FolderUpdate]:
        if status is not None and status not in ("pending", "approved", "rejected"):
            raise Invalid("status must be pending, approved or rejected")
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            stmt = select(FolderUpdateRow).where(col(FolderUpdateRow.project_id) == project_id)
            if status:
                stmt = stmt.where(col(FolderUpdateRow.status) == status)
            return await paginate(s, stmt, [col(FolderUpdateRow.id)], lambda r: [r.id], FolderUpdate.model_validate,
                                  limit=limit, cursor=cursor, descending=True)

    async def _pending_update(
        self, s: AsyncSession, principal: Principal, project_id: str, folder_update_id: str
    ) -> tuple[ProjectAccess, FolderUpdateRow]:
        acc = await load_project(s, principal, project_id)
        acc.at_least("editor", principal, "deciding folder updates")
        row = await s.get(FolderUpdateRow, folder_update_id)
        if row is None or row.project_id != project_id:
            raise NotFound(f"folder update {folder_update_id} not found")
        if row.status != "pending":
            raise Conflict(f"folder update is already {row.status}")
        return acc, row

    async def _apply(self, s: AsyncSession, row: FolderUpdateRow) -> None:
        pid, path = row.project_id, row.path
        existing = set((await s.scalars(select(col(FolderRow.path)).where(col(FolderRow.project_id) == pid))).all())
        now = self.ctx.clock.now()
        if row.action == "create":
            if path in existing:
                raise Conflict(f"folder {path!r} already exists")
            parts = path.split("/")
            for i in range(1, len(parts) + 1):  # parents first
                p = "/".join(parts[:i])
                if p not in existing:
                    s.add(FolderRow(id=self.ctx.ids.new(), project_id=pid, path=p, name=parts[i - 1], created_at=now))
            return
        if path not in existing:
            raise Conflict(f"folder {path!r} does not exist (any more)")
        if row.action == "delete":
            docs = await s.scalar(select(col(DocumentRow.id)).where(
                col(DocumentRow.project_id) == pid,
                or_(col(DocumentRow.folder_path) == path,
                    col(DocumentRow.folder_path).startswith(path + "/", autoescape=True)),
            ).limit(1))
            if docs:
                raise Conflict(f"folder {path!r} still holds documents; move or delete them first")
            await s.execute(delete(FolderRow).where(col(FolderRow.project_id) == pid, _under(path)))
            return
        new = row.new_path or ""
        if new == path or new.startswith(path + "/"):
            raise Conflict("a folder cannot be renamed into itself")
        moved = [p for p in existing if p == path or p.startswith(path + "/")]
        targets = {p: new + p[len(path):] for p in moved}
        if clash := sorted(set(targets.values()) & (existing - set(moved))):
            raise Conflict(f"folder {clash[0]!r} already exists")
        for old, target in targets.items():
            await s.execute(update(FolderRow).where(col(FolderRow.project_id) == pid, col(FolderRow.path) == old)
                            .values(path=target, name=target.rsplit("/", 1)[-1]))
            await s.execute(update(DocumentRow)
                            .where(col(DocumentRow.project_id) == pid, col(DocumentRow.folder_path) == old)
                            .values(folder_path=target))
        # Parents of the new location that do not exist yet.
        parts = new.split("/")
        for i in range(1, len(parts)):
            p = "/".join(parts[:i])
            if p not in existing and p not in targets.values():
                s.add(FolderRow(id=self.ctx.ids.new(), project_id=pid, path=p, name=parts[i - 1], created_at=now))

    async def _decide_folder_update(
        self, principal: Principal, project_id: str, folder_update_id: str, approve: bool, comment: str
    ) -> FolderUpdate:
        if len(comment) > 4000:
            raise Invalid("comment is longer than 4000 characters")
        async with self.ctx.db.transaction() as s:
            acc, row = await self._pending_update(s, principal, project_id, folder_update_id)
            if approve:
                acc.writable()
                await self._apply(s, row)
            row.status = "approved" if approve else "rejected"
            row.decided_by = principal.username
            row.decided_at = self.ctx.clock.now()
            row.comment = comment
            await self.ctx.events.emit(s, principal, f"project.folder_update_{row.status}", "folder_update", row.id,
                                       project_id, action=row.action, path=row.path, new_path=row.new_path,
                                       proposed_by=row.proposed_by)
            return FolderUpdate.model_validate(row)

    async def approve_folder_update(
        self, principal: Principal, project_id: str, folder_update_id: str, comment: str = ""
    ) -> FolderUpdate:
        return await self._decide_folder_update(principal, project_id, folder_update_id, True, comment)

    async def reject_folder_update(
        self, principal: Principal, project_id: str, folder_update_id: str, comment: str = ""
    ) -> FolderUpdate:
        return await self._decide_folder_update(principal, project_id, folder_update_id, False, comment)

    # ---- documents -----------------------------------------------------------------

    async def list_documents(
        self, principal: Principal, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Document]:
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            # Everything but the content blob: a list never needs the bytes.
            stmt = (select(DocumentRow).options(defer(orm_attr(DocumentRow.content)))
                    .where(col(DocumentRow.project_id) == project_id))
            return await paginate(s, stmt, [col(DocumentRow.id)], lambda r: [r.id], document_model,
                                  limit=limit, cursor=cursor, descending=True)

    @idempotent(Document)
    async def upload_document(
        self,
        principal: Principal,
        project_id: str,
        filename: str,
        content: bytes,
        content_type: str | None = None,
        folder_path: str | None = None,
    ) -> Document:
        limit = self.ctx.settings.max_upload_bytes
        if len(content) > limit:
            raise PayloadTooLarge(f"{filename}: {len(content)} bytes is over the {limit}-byte upload limit")
        name = clean_filename(filename)
        if not content:
            raise Invalid(f"{name}: the file is empty")
        ctype = content_type_for(name, content_type)
        text = extract_text(name, ctype, content)
        digest = hashlib.sha256(content).hexdigest()
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("editor", principal, "uploading documents")
            acc.writable()
            folder = clean_folder_path(folder_path) if folder_path else None
            if folder and not await s.scalar(select(col(FolderRow.id)).where(
                    col(FolderRow.project_id) == project_id, col(FolderRow.path) == folder)):
                raise Invalid(f"folder {folder!r} does not exist in this project")
            if await s.scalar(select(col(DocumentRow.id)).where(
                    col(DocumentRow.project_id) == project_id, col(DocumentRow.filename) == name,
                    col(DocumentRow.content_hash) == digest)):
                raise Conflict(f"{name} with this exact content is already uploaded")
            now = self.ctx.clock.now()
            row = DocumentRow(id=self.ctx.ids.new(), project_id=project_id, folder_path=folder, filename=name,
                              content_type=ctype, size=len(content), content=content, text=text,
                              content_hash=digest, uploaded_by=principal.username, created_at=now, ingested_at=now)
            s.add(row)
            await self.ctx.events.emit(s, principal, "project.document_uploaded", "document", row.id, project_id,
                                       filename=name, size=len(content), content_hash=digest)
            return document_model(row)

    async def reingest_document(self, principal: Principal, project_id: str, document_id: str) -> Document:
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("editor", principal, "reingesting documents")
            acc.writable()
            row = await s.get(DocumentRow, document_id)
            if row is None or row.project_id != project_id:
                raise NotFound(f"document {document_id} not found in this project")
            row.text = extract_text(row.filename, row.content_type, row.content)
            row.content_hash = hashlib.sha256(row.content).hexdigest()
            row.size = len(row.content)
            row.ingested_at = self.ctx.clock.now()
            row.ingest_count += 1
            await self.ctx.events.emit(s, principal, "project.document_reingested", "document", row.id, project_id,
                                       filename=row.filename, content_hash=row.content_hash)
            return document_model(row)
