"""Wiki links between entries (typed, directed) and the graph they make.

A link is written from its source entry: changing it needs write access to the
source's namespace, and the target must be visible to the caller (a target in a
namespace they cannot see is 404, like any invisible entry). Lists and graphs only
show links whose other end the caller can see.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas import Deleted, Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.knowledge import (
    GraphEdge,
    GraphNode,
    LinkKind,
    WikiGraph,
    WikiLink,
    WikiLinkCreate,
    WikiLinkUpdate,
)
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import KnowledgeEntryRow, KnowledgeLinkRow
from .access import Scope, load_entry, scope_of
from .convert import link_model

MAX_GRAPH_NODES = 500


def _shown(scope: Scope) -> list[Any]:
    """What a graph or a retrieval may show: visible, active entries of the caller's namespaces."""
    return [scope.where(col(KnowledgeEntryRow.namespace)), col(KnowledgeEntryRow.status) == "active",
            col(KnowledgeEntryRow.visibility) == "visible"]


async def add_link(ctx: ServiceContext, s: AsyncSession, principal: Principal, source: KnowledgeEntryRow,
                   target: KnowledgeEntryRow, kind: str, note: str = "", origin: str = "manual") -> KnowledgeLinkRow:
    if source.id == target.id:
        raise Invalid("an entry cannot link to itself")
    exists = await s.scalar(select(col(KnowledgeLinkRow.id)).where(
        col(KnowledgeLinkRow.source_id) == source.id, col(KnowledgeLinkRow.target_id) == target.id,
        col(KnowledgeLinkRow.kind) == kind))
    if exists:
        raise Conflict(f"{source.title!r} already links to {target.title!r} as {kind}")
    now = ctx.clock.now()
    row = KnowledgeLinkRow(id=ctx.ids.new(), source_id=source.id, target_id=target.id, kind=kind, note=note,
                           origin=origin, created_by=principal.username, created_at=now, updated_at=now)
    s.add(row)
    await ctx.events.emit(s, principal, "knowledge.link_created", "knowledge_link", row.id,
                          source_id=source.id, target_id=target.id, link_kind=kind, namespace=source.namespace,
                          source_author_id=source.created_by_id, target_author_id=target.created_by_id)
    return row


class KnowledgeLinks:
    ctx: ServiceContext

    async def _link_of(self, s: AsyncSession, scope: Scope, entry_id: str, link_id: str,
                       write: bool) -> tuple[KnowledgeLinkRow, KnowledgeEntryRow, KnowledgeEntryRow]:
        entry = await load_entry(s, scope, entry_id)
        link = await s.get(KnowledgeLinkRow, link_id)
        if link is None or entry_id not in (link.source_id, link.target_id):
            raise NotFound(f"link {link_id} not found on entry {entry_id}")
        other_id = link.target_id if link.source_id == entry_id else link.source_id
        other = await s.get(KnowledgeEntryRow, other_id)
        if other is None or not scope.can_read(other.namespace):
            raise NotFound(f"link {link_id} not found on entry {entry_id}")
        source = entry if link.source_id == entry_id else other
        if write:
            scope.require_write(source.namespace)
        return link, entry, other

    async def list_links(
        self, principal: Principal, entry_id: str, direction: str = "both", kind: str | None = None,
        limit: int = DEFAULT_LIMIT, cursor: str | None = None,
    ) -> Page[WikiLink]:
        """An entry's links: ``out`` (from it), ``in`` (to it) or ``both``."""
        if direction not in ("both", "out", "in"):
            raise Invalid("direction must be 'both', 'out' or 'in'")
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            await load_entry(s, scope, entry_id)
            other = aliased(KnowledgeEntryRow)
            outgoing = col(KnowledgeLinkRow.source_id) == entry_id
            incoming = col(KnowledgeLinkRow.target_id) == entry_id
            sides = {"both": or_(outgoing, incoming), "out": outgoing, "in": incoming}[direction]
            other_id = case((outgoing, col(KnowledgeLinkRow.target_id)), else_=col(KnowledgeLinkRow.source_id))
            stmt = (select(KnowledgeLinkRow, other).join(other, col(other.id) == other_id)
                    .where(sides, scope.where(col(other.namespace))))
            if kind:
                stmt = stmt.where(col(KnowledgeLinkRow.kind) == kind)
            return await paginate(s, stmt, [col(KnowledgeLinkRow.id)], lambda r: [r[0].id],
                                  lambda r: link_model(r[0], entry_id, r[1]), limit=limit, cursor=cursor)

    @idempotent(WikiLink)
    async def create_link(self, principal: Principal, entry_id: str, data: WikiLinkCreate) -> WikiLink:
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            source = await load_entry(s, scope, entry_id, write=True)
            target = await load_entry(s, scope, data.target_id)
            try:
                row = await add_link(self.ctx, s, principal, source, target, data.kind.value, data.note)
                await s.flush()
            except IntegrityError:
                raise Conflict("that link exists already") from None
            return link_model(row, entry_id, target)

    async def update_link(self, principal: Principal, entry_id: str, link_id: str, data: WikiLinkUpdate) -> WikiLink:
        if data.kind is None and data.note is None:
            raise Invalid("nothing to update: give kind and/or note")
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            link, _entry, other = await self._link_of(s, scope, entry_id, link_id, write=True)
            changed = []
            if data.kind is not None and data.kind.value != link.kind:
                clash = await s.scalar(select(col(KnowledgeLinkRow.id)).where(
                    col(KnowledgeLinkRow.source_id) == link.source_id,
                    col(KnowledgeLinkRow.target_id) == link.target_id,
                    col(KnowledgeLinkRow.kind) == data.kind.value))
                if clash:
                    raise Conflict(f"these entries are already linked as {data.kind.value}")
                link.kind = data.kind.value
                changed.append("kind")
            if data.note is not None and data.note != link.note:
                link.note = data.note
                changed.append("note")
            if changed:
                link.updated_at = self.ctx.clock.now()
                await self.ctx.events.emit(s, principal, "knowledge.link_updated", "knowledge_link", link.id,
                                           source_id=link.source_id, target_id=link.target_id, link_kind=link.kind,
                                           changed=changed)
            return link_model(link, entry_id, other)

    async def delete_link(self, principal: Principal, entry_id: str, link_id: str) -> Deleted:
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            link, _entry, _other = await self._link_of(s, scope, entry_id, link_id, write=True)
            await s.delete(link)
            await self.ctx.events.emit(s, principal, "knowledge.link_deleted", "knowledge_link", link_id,
                                       source_id=link.source_id, target_id=link.target_id, link_kind=link.kind)
            return Deleted(id=link_id)

    # ---- the graph -----------------------------------------------------------------------

    async def wiki_graph(
        self, principal: Principal, namespace: str | None = None, entry_id: str | None = None, depth: int = 1,
        max_nodes: int = 200,
    ) -> WikiGraph:
        """The namespace's nodes and edges (newest ``max_nodes`` entries), or, with
        ``entry_id``, the neighbourhood within ``depth`` links of that entry."""
        if not 1 <= depth <= 3:
            raise Invalid("depth must be between 1 and 3")
        if not 1 <= max_nodes <= MAX_GRAPH_NODES:
            raise Invalid(f"max_nodes must be between 1 and {MAX_GRAPH_NODES}")
        async with self.ctx.db.read() as s:
            scope = await scope_of(s, principal)
            if namespace:
                scope.require_read(namespace)
            shown = _shown(scope)
            if namespace:
                shown.append(col(KnowledgeEntryRow.namespace) == namespace)
            truncated = False
            hops: dict[str, int] = {}
            if entry_id:
                center = await load_entry(s, scope, entry_id)
                nodes = {center.id: center}
                hops[center.id] = 0
                frontier = [center.id]
                for hop in range(1, depth + 1):
                    links = (await s.scalars(select(KnowledgeLinkRow).where(or_(
                        col(KnowledgeLinkRow.source_id).in_(frontier), col(KnowledgeLinkRow.target_id).in_(frontier)))
                        .order_by(col(KnowledgeLinkRow.id)))).all()
                    wanted = sorted({x for link in links for x in (link.source_id, link.target_id)} - set(nodes))
                    found = (await s.scalars(select(KnowledgeEntryRow)
                                             .where(col(KnowledgeEntryRow.id).in_(wanted), *shown)
                                             .order_by(col(KnowledgeEntryRow.id)))).all()
                    frontier = []
                    for row in found:
                        if len(nodes) >= max_nodes:
                            truncated = True
                            break
                        nodes[row.id], hops[row.id] = row, hop
                        frontier.append(row.id)
                    if not frontier:
                        break
            else:
                rows = (await s.scalars(select(KnowledgeEntryRow).where(*shown)
                                        .order_by(col(KnowledgeEntryRow.id).desc()).limit(max_nodes + 1))).all()
                truncated = len(rows) > max_nodes
                nodes = {r.id: r for r in rows[:max_nodes]}
            ids = list(nodes)
            edges = (await s.scalars(select(KnowledgeLinkRow).where(
                col(KnowledgeLinkRow.source_id).in_(ids), col(KnowledgeLinkRow.target_id).in_(ids))
                .order_by(col(KnowledgeLinkRow.id)))).all()
            linked = await self._linked_ids(s, scope, ids)
        degree: dict[str, int] = dict.fromkeys(ids, 0)
        for e in edges:
            degree[e.source_id] += 1
            degree[e.target_id] += 1
        return WikiGraph(
            namespace=namespace, center=entry_id, truncated=truncated,
            nodes=[GraphNode(id=r.id, title=r.title, namespace=r.namespace, tags=list(r.tags or []),
                             degree=degree[r.id], orphan=r.id not in linked, hop=hops.get(r.id))
                   for r in nodes.values()],
            edges=[GraphEdge(id=e.id, source=e.source_id, target=e.target_id, kind=LinkKind(e.kind)) for e in edges],
        )

    @staticmethod
    async def _linked_ids(s: AsyncSession, scope: Scope, ids: list[str]) -> set[str]:
        """Which of ``ids`` have at least one link to or from an entry the caller can see."""
        if not ids:
            return set()
        other = aliased(KnowledgeEntryRow)
        out = await s.scalars(select(col(KnowledgeLinkRow.source_id))
                              .join(other, col(other.id) == col(KnowledgeLinkRow.target_id))
                              .where(col(KnowledgeLinkRow.source_id).in_(ids), scope.where(col(other.namespace))))
        inc = await s.scalars(select(col(KnowledgeLinkRow.target_id))
                              .join(other, col(other.id) == col(KnowledgeLinkRow.source_id))
                              .where(col(KnowledgeLinkRow.target_id).in_(ids), scope.where(col(other.namespace))))
        return set(out.all()) | set(inc.all())
