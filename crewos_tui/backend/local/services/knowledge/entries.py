"""Namespaces and entries: list, create, read (with versions), update, delete."""

from __future__ import annotations

import re

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas import Deleted, Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.knowledge import (
    NAMESPACE_RE,
    KnowledgeEntry,
    KnowledgeEntryBrief,
    KnowledgeEntryCreate,
    KnowledgeEntryUpdate,
    KnowledgeNamespace,
)
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import check_limit, decode_cursor, encode_cursor, paginate
from ...tables import (
    KnowledgeEntryRow,
    KnowledgeEntryTagRow,
    KnowledgeEntryVersionRow,
    KnowledgeFileRow,
    KnowledgeLinkRow,
    KnowledgeNamespaceRow,
)
from .access import Scope, ensure_namespace, load_entry, scope_of
from .convert import entry_brief, entry_full
from .writes import EntryWriter, keep_version, replace_tags

_NAMESPACE = re.compile(NAMESPACE_RE)
MAX_VERSIONS_SHOWN = 50


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def full_entry(s: AsyncSession, scope: Scope, row: KnowledgeEntryRow) -> KnowledgeEntry:
    """An entry with its file name, visible link counts and version history."""
    filename = None
    if row.source_file_id:
        filename = await s.scalar(select(col(KnowledgeFileRow.filename))
                                  .where(col(KnowledgeFileRow.id) == row.source_file_id))
    other = aliased(KnowledgeEntryRow)

    async def count(mine: Mapped[str], theirs: Mapped[str]) -> int:
        stmt = (select(func.count()).select_from(KnowledgeLinkRow).join(other, col(other.id) == theirs)
                .where(mine == row.id, scope.where(col(other.namespace))))
        return int(await s.scalar(stmt) or 0)

    links = (await count(col(KnowledgeLinkRow.source_id), col(KnowledgeLinkRow.target_id)),
             await count(col(KnowledgeLinkRow.target_id), col(KnowledgeLinkRow.source_id)))
    versions = (await s.scalars(select(KnowledgeEntryVersionRow).where(col(KnowledgeEntryVersionRow.entry_id) == row.id)
                                .order_by(col(KnowledgeEntryVersionRow.version).desc())
                                .limit(MAX_VERSIONS_SHOWN))).all()
    return entry_full(row, filename, links, list(versions))


class KnowledgeEntries:
    ctx: ServiceContext

    async def namespaces(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[KnowledgeNamespace]:
        """The namespaces the caller can see (with counts), and granted names not used yet."""
        check_limit(limit)
        after = decode_cursor(cursor, 1)[0] if cursor else None
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            rows = {r.name: r for r in (await s.scalars(select(KnowledgeNamespaceRow)
                                                        .where(scope.where(col(KnowledgeNamespaceRow.name))))).all()}
            entries = dict((await s.execute(select(col(KnowledgeEntryRow.namespace), func.count())
                                            .where(col(KnowledgeEntryRow.namespace).in_(list(rows)))
                                            .group_by(col(KnowledgeEntryRow.namespace)))).all())
            files = dict((await s.execute(select(col(KnowledgeFileRow.namespace), func.count())
                                          .where(col(KnowledgeFileRow.namespace).in_(list(rows)))
                                          .group_by(col(KnowledgeFileRow.namespace)))).all())
        items = [KnowledgeNamespace(name=n, description=r.description, entry_count=int(entries.get(n, 0)),
                                    file_count=int(files.get(n, 0)), can_write=scope.can_write(n),
                                    created_at=r.created_at) for n, r in rows.items()]
        for grant in principal.namespace_grants:  # granted by name, nothing written yet
            if grant not in rows and "*" not in grant and _NAMESPACE.match(grant):
                items.append(KnowledgeNamespace(name=grant, can_write=scope.can_write(grant), exists=False))
        items.sort(key=lambda n: n.name)
        if after is not None:
            items = [n for n in items if n.name > str(after)]
        page = items[:limit]
        more = len(items) > limit
        return Page[KnowledgeNamespace](items=page, next_cursor=encode_cursor([page[-1].name]) if more else None)

    async def list(
        self,
        principal: Principal,
        namespace: str | None = None,
        tag: str | None = None,
        q: str | None = None,
        status: str | None = None,
        visibility: str | None = None,
        file_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[KnowledgeEntryBrief]:
        """Entries in the caller's namespaces, newest first, with optional filters."""
        if status is not None and status not in ("active", "archived"):
            raise Invalid("status must be 'active' or 'archived'")
        if visibility is not None and visibility not in ("visible", "hidden"):
            raise Invalid("visibility must be 'visible' or 'hidden'")
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            stmt = (select(KnowledgeEntryRow, col(KnowledgeFileRow.filename))
                    .outerjoin(KnowledgeFileRow, col(KnowledgeFileRow.id) == col(KnowledgeEntryRow.source_file_id))
                    .where(scope.where(col(KnowledgeEntryRow.namespace), [namespace] if namespace else None)))
            if tag:
                stmt = stmt.where(select(col(KnowledgeEntryTagRow.entry_id)).where(
                    col(KnowledgeEntryTagRow.entry_id) == col(KnowledgeEntryRow.id),
                    col(KnowledgeEntryTagRow.tag) == tag.strip().lower()).exists())
            if q:
                if len(q) > 200:
                    raise Invalid("q is longer than 200 characters")
                stmt = stmt.where(col(KnowledgeEntryRow.title).ilike(_like(q), escape="\\"))
            if status:
                stmt = stmt.where(col(KnowledgeEntryRow.status) == status)
            if visibility:
                stmt = stmt.where(col(KnowledgeEntryRow.visibility) == visibility)
            if file_id:
                stmt = stmt.where(col(KnowledgeEntryRow.source_file_id) == file_id)
            return await paginate(s, stmt, [col(KnowledgeEntryRow.id)], lambda r: [r[0].id],
                                  lambda r: entry_brief(r[0], r[1]), limit=limit, cursor=cursor, descending=True)

    @idempotent(KnowledgeEntry)
    async def create(self, principal: Principal, data: KnowledgeEntryCreate) -> KnowledgeEntry:
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            await ensure_namespace(s, scope, data.namespace, self.ctx.clock.now())
            row = await EntryWriter(self.ctx, s, principal).add(data.namespace, data.title, data.body, data.tags,
                                                                 data.visibility.value)
            await s.flush()
            await self.ctx.events.emit(s, principal, "knowledge.entry_created", "knowledge_entry", row.id,
                                       namespace=row.namespace, title=row.title, user_id=principal.user_id)
            return await full_entry(s, scope, row)

    async def get(self, principal: Principal, entry_id: str, version: int | None = None) -> KnowledgeEntry:
        """An entry; with ``version``, that earlier version of its title, body and tags."""
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            row = await load_entry(s, scope, entry_id)
            entry = await full_entry(s, scope, row)
            if version is None or version == row.version:
                return entry
            old = await s.scalar(select(KnowledgeEntryVersionRow).where(
                col(KnowledgeEntryVersionRow.entry_id) == entry_id, col(KnowledgeEntryVersionRow.version) == version))
            if old is None:
                raise NotFound(f"entry {entry_id} has no version {version} (current: {row.version})")
            return entry.model_copy(update={"title": old.title, "body": old.body, "tags": list(old.tags),
                                             "version": old.version, "updated_at": old.created_at,
                                             "updated_by": old.updated_by})

    async def update(self, principal: Principal, entry_id: str, data: KnowledgeEntryUpdate) -> KnowledgeEntry:
        """Change an entry; a change of title, body or tags keeps the previous version."""
        fields = data.model_dump(exclude_unset=True, exclude={"expected_version"})
        if not any(v is not None for v in fields.values()):
            raise Invalid("nothing to update: give title, body, tags, visibility, namespace and/or status")
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            row = await load_entry(s, scope, entry_id, write=True)
            if data.expected_version is not None and data.expected_version != row.version:
                raise Conflict(f"the entry changed meanwhile: it is at version {row.version}, "
                               f"you edited version {data.expected_version}")
            changed: list[str] = []
            content = {"title": data.title, "body": data.body}
            new_tags = None if data.tags is None else sorted({t.lower() for t in data.tags})
            if any(v is not None and v != getattr(row, k) for k, v in content.items()) or (
                    new_tags is not None and new_tags != sorted(row.tags or [])):
                keep_version(self.ctx, s, row)
                for key, value in content.items():
                    if value is not None and value != getattr(row, key):
                        setattr(row, key, value)
                        changed.append(key)
                if data.tags is not None:
                    await replace_tags(s, row, data.tags)
                    changed.append("tags")
            if data.visibility is not None and data.visibility.value != row.visibility:
                row.visibility = data.visibility.value
                changed.append("visibility")
            if data.status is not None and data.status.value != row.status:
                row.status = data.status.value
                changed.append("status")
            if data.namespace is not None and data.namespace != row.namespace:
                await ensure_namespace(s, scope, data.namespace, self.ctx.clock.now())
                row.namespace = data.namespace
                changed.append("namespace")
            if changed:
                row.updated_at, row.updated_by = self.ctx.clock.now(), principal.username
                await self.ctx.events.emit(s, principal, "knowledge.entry_updated", "knowledge_entry", row.id,
                                           namespace=row.namespace, title=row.title, changed=changed,
                                           version=row.version, author_id=row.created_by_id)
            await s.flush()
            return await full_entry(s, scope, row)

    async def delete(self, principal: Principal, entry_id: str) -> Deleted:
        """Delete an entry with its links, versions and governance items."""
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            row = await load_entry(s, scope, entry_id, write=True)
            await s.execute(delete(KnowledgeLinkRow).where(or_(col(KnowledgeLinkRow.source_id) == entry_id,
                                                               col(KnowledgeLinkRow.target_id) == entry_id)))
            await s.execute(delete(KnowledgeEntryRow).where(col(KnowledgeEntryRow.id) == entry_id))
            if row.source_file_id:  # the file group shrinks
                file = await s.get(KnowledgeFileRow, row.source_file_id)
                if file is not None:
                    file.entry_count = max(file.entry_count - 1, 0)
            await self.ctx.events.emit(s, principal, "knowledge.entry_deleted", "knowledge_entry", entry_id,
                                       namespace=row.namespace, title=row.title, author_id=row.created_by_id)
            return Deleted(id=entry_id)

