"""Writing entries: the bookkeeping every path that adds or changes an entry shares
(create, update, ingest, merge, approved research) — full-text row ids, tags and
the version history."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid
from ....principal import Principal
from ....schemas.knowledge import MAX_BODY_CHARS
from ...context import ServiceContext
from ...tables import KnowledgeEntryRow, KnowledgeEntryTagRow, KnowledgeEntryVersionRow

MAX_TAGS = 20
TITLE_CHARS = 200


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, unique, in order (the schemas validate the characters)."""
    out: list[str] = []
    for tag in tags:
        t = tag.strip().lower()
        if t and t not in out:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise Invalid(f"an entry has at most {MAX_TAGS} tags")
    return out


def clip_title(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"


class EntryWriter:
    """Adds entries within one transaction (``fts_rowid`` is allocated here: the
    transaction holds SQLite's write lock, so max()+1 cannot race)."""

    def __init__(self, ctx: ServiceContext, s: AsyncSession, principal: Principal) -> None:
        self.ctx, self.s, self.principal = ctx, s, principal
        self._next_rowid: int | None = None

    async def _rowid(self) -> int:
        if self._next_rowid is None:
            self._next_rowid = int(await self.s.scalar(select(func.max(col(KnowledgeEntryRow.fts_rowid)))) or 0) + 1
        value, self._next_rowid = self._next_rowid, self._next_rowid + 1
        return value

    async def add(
        self,
        namespace: str,
        title: str,
        body: str,
        tags: list[str],
        visibility: str = "visible",
        *,
        source_file_id: str | None = None,
        section: str = "",
        position: int = 0,
    ) -> KnowledgeEntryRow:
        if len(body) > MAX_BODY_CHARS:
            raise Invalid(f"an entry body is at most {MAX_BODY_CHARS} characters")
        now = self.ctx.clock.now()
        tags = clean_tags(tags)
        row = KnowledgeEntryRow(
            id=self.ctx.ids.new(), fts_rowid=await self._rowid(), namespace=namespace,
            title=clip_title(title) or "Untitled",
            body=body, tags=tags, tags_text=" ".join(tags), visibility=visibility, source_file_id=source_file_id,
            source_section=section[:500], position=position, created_by=self.principal.username,
            created_by_id=self.principal.user_id, updated_by=self.principal.username, created_at=now, updated_at=now,
        )
        self.s.add(row)
        self.s.add_all(KnowledgeEntryTagRow(entry_id=row.id, tag=t) for t in tags)
        return row


async def replace_tags(s: AsyncSession, row: KnowledgeEntryRow, tags: list[str]) -> None:
    tags = clean_tags(tags)
    await s.execute(delete(KnowledgeEntryTagRow).where(col(KnowledgeEntryTagRow.entry_id) == row.id))
    s.add_all(KnowledgeEntryTagRow(entry_id=row.id, tag=t) for t in tags)
    row.tags, row.tags_text = tags, " ".join(tags)


def keep_version(ctx: ServiceContext, s: AsyncSession, row: KnowledgeEntryRow) -> None:
    """Save the entry as it is now as a version, before it changes."""
    s.add(KnowledgeEntryVersionRow(id=ctx.ids.new(), entry_id=row.id, version=row.version, title=row.title,
                                   body=row.body, tags=list(row.tags or []), updated_by=row.updated_by,
                                   created_at=row.updated_at))
    row.version += 1
