"""The wiki governance queue: proposed links and merges, orphans and stale entries
(meditation fills it), and the actions that apply a decision.

=========  =====================  =================================  ===================
item       accept                 merge                              archive
=========  =====================  =================================  ===================
link       create the link        —                                  archive the entry
merge      merge (as ``merge``)   fold ``other`` into ``entry``      archive the entry
orphan     keep it as it is       —                                  archive the entry
stale      keep it (still true)   —                                  archive the entry
=========  =====================  =================================  ===================

``reject`` dismisses any pending item; a dismissed proposal is never proposed again.
Deciding needs write access to the item's entries' namespaces. A merge keeps the
older entry: its body gains the other's paragraphs it lacks, it takes the other's
tags and links, keeps its previous version, and the other is archived with a
``duplicates`` link to it.
"""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.knowledge import (
    GovernanceActionRequest,
    GovernanceActionResult,
    GovernanceQueues,
)
from ...context import ServiceContext
from ...pagination import paginate
from ...tables import KnowledgeEntryRow, KnowledgeGovernanceRow, KnowledgeLinkRow
from .access import load_entry, scope_of
from .convert import governance_model, link_model
from .entries import full_entry
from .links import add_link
from .writes import keep_version, replace_tags

KINDS = ("link", "merge", "orphan", "stale")
STATUSES = ("pending", "accepted", "rejected", "merged", "archived")
ALLOWED = {
    "link": {"accept", "reject", "archive"},
    "merge": {"accept", "merge", "reject", "archive"},
    "orphan": {"accept", "reject", "archive"},
    "stale": {"accept", "reject", "archive"},
}


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


async def merge_entries(ctx: ServiceContext, s: AsyncSession, principal: Principal, keep: KnowledgeEntryRow,
                        other: KnowledgeEntryRow) -> None:
    """Fold ``other`` into ``keep`` (see the module docstring)."""
    if keep.id == other.id:
        raise Invalid("an entry cannot be merged into itself")
    known = {" ".join(p.split()) for p in _paragraphs(keep.body)}
    missing = [p for p in _paragraphs(other.body) if " ".join(p.split()) not in known]
    tags: list[str] = list(dict.fromkeys([*(keep.tags or []), *(other.tags or [])]))
    keep_version(ctx, s, keep)
    if missing:
        keep.body = (keep.body.rstrip() + f"\n\n## Merged from: {other.title}\n\n" + "\n\n".join(missing)).strip()
    await replace_tags(s, keep, tags[:20])
    keep.updated_at, keep.updated_by = ctx.clock.now(), principal.username
    # The other's links now belong to the kept entry (dropping self-links and duplicates).
    links = (await s.scalars(select(KnowledgeLinkRow).where(or_(
        col(KnowledgeLinkRow.source_id) == other.id, col(KnowledgeLinkRow.target_id) == other.id)))).all()
    existing = {(r.source_id, r.target_id, r.kind) for r in (await s.scalars(select(KnowledgeLinkRow).where(or_(
        col(KnowledgeLinkRow.source_id) == keep.id, col(KnowledgeLinkRow.target_id) == keep.id)))).all()}
    for link in links:
        source = keep.id if link.source_id == other.id else link.source_id
        target = keep.id if link.target_id == other.id else link.target_id
        if source == target or (source, target, link.kind) in existing:
            await s.delete(link)
            continue
        link.source_id, link.target_id, link.updated_at = source, target, ctx.clock.now()
        existing.add((source, target, link.kind))
    await s.flush()
    other.status, other.merged_into, other.updated_at = "archived", keep.id, ctx.clock.now()
    await add_link(ctx, s, principal, other, keep, "duplicates", f"merged into {keep.title}", origin="merge")
    # Proposals about the merged-away entry are moot now.
    await s.execute(update(KnowledgeGovernanceRow).where(
        col(KnowledgeGovernanceRow.status) == "pending",
        or_(col(KnowledgeGovernanceRow.entry_id) == other.id, col(KnowledgeGovernanceRow.other_id) == other.id))
        .values(status="rejected", decided_by=principal.username, decided_at=ctx.clock.now(),
                comment=f"moot: merged into {keep.id}").execution_options(synchronize_session=False))


class KnowledgeGovernance:
    ctx: ServiceContext

    async def governance(
        self, principal: Principal, namespace: str | None = None, kind: str | None = None,
        status: str = "pending", limit: int = DEFAULT_LIMIT, cursor: str | None = None,
    ) -> GovernanceQueues:
        """The queue (oldest first), with pending counts per kind."""
        if kind is not None and kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}")
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}")
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            in_scope = scope.where(col(KnowledgeGovernanceRow.namespace), [namespace] if namespace else None)
            counts = dict((await s.execute(select(col(KnowledgeGovernanceRow.kind), func.count())
                                           .where(in_scope, col(KnowledgeGovernanceRow.status) == "pending")
                                           .group_by(col(KnowledgeGovernanceRow.kind)))).all())
            entry, other = aliased(KnowledgeEntryRow), aliased(KnowledgeEntryRow)
            stmt = (select(KnowledgeGovernanceRow, col(entry.title), col(other.title), col(other.namespace))
                    .join(entry, col(entry.id) == col(KnowledgeGovernanceRow.entry_id))
                    .outerjoin(other, col(other.id) == col(KnowledgeGovernanceRow.other_id))
                    .where(in_scope, col(KnowledgeGovernanceRow.status) == status))
            if kind:
                stmt = stmt.where(col(KnowledgeGovernanceRow.kind) == kind)
            page = await paginate(s, stmt, [col(KnowledgeGovernanceRow.id)], lambda r: [r[0].id], lambda r: r,
                                  limit=limit, cursor=cursor)
        items = []
        for row, title, other_title, other_ns in page.items:
            if row.other_id and other_ns is not None and not scope.can_read(other_ns):
                other_title = None  # the other end lies outside the caller's namespaces
            items.append(governance_model(row, title, other_title))
        return GovernanceQueues(counts={k: int(counts.get(k, 0)) for k in KINDS}, items=items,
                                next_cursor=page.next_cursor)

    async def apply_governance(self, principal: Principal, data: GovernanceActionRequest) -> GovernanceActionResult:
        """Decide one pending item (see the table in the module docstring)."""
        action = data.action.value
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            item = await s.get(KnowledgeGovernanceRow, data.item_id)
            if item is None or not scope.can_read(item.namespace):
                raise NotFound(f"governance item {data.item_id} not found")
            if item.status != "pending":
                raise Conflict(f"governance item {item.id} is already {item.status}")
            if action not in ALLOWED[item.kind]:
                raise Invalid(f"a {item.kind} item can be: {', '.join(sorted(ALLOWED[item.kind]))}")
            entry = await load_entry(s, scope, item.entry_id, write=True)
            other = await load_entry(s, scope, item.other_id, write=action in ("accept", "merge")
                                     and item.kind == "merge") if item.other_id else None
            link_out = None
            if action == "reject":
                item.status = "rejected"
            elif action == "archive":
                entry.status, entry.updated_at = "archived", self.ctx.clock.now()
                item.status = "archived"
            elif item.kind == "link":
                assert other is not None
                link = await add_link(self.ctx, s, principal, entry, other, item.link_kind or "related",
                                      item.reason[:500], origin="governance")
                item.status, item.result_link_id = "accepted", link.id
                await s.flush()
                link_out = link_model(link, entry.id, other)
            elif item.kind == "merge":
                assert other is not None
                await merge_entries(self.ctx, s, principal, entry, other)
                item.status = "merged"
            else:  # orphan or stale, kept as it is
                item.status = "accepted"
            item.decided_by, item.decided_at, item.comment = principal.username, self.ctx.clock.now(), data.comment
            await self.ctx.events.emit(s, principal, f"knowledge.governance_{item.status}", "knowledge_governance",
                                       item.id, item_kind=item.kind, action=action, entry_id=entry.id,
                                       other_id=item.other_id, namespace=item.namespace,
                                       author_id=entry.created_by_id)
            await s.flush()
            result_entry = await full_entry(s, scope, entry)
            return GovernanceActionResult(item=governance_model(item, entry.title, other.title if other else None),
                                          action=data.action, link=link_out, entry=result_entry)

