"""Full-text search (ranked, with snippets) and graph-aware retrieval.

Both take a resolved ``Scope``, so the agents' entry points (``agents.py``) run the
same code with a scope narrowed by the agent's namespace policy. Only visible,
active entries are found (``include_hidden`` adds hidden ones to a search).

Retrieval: the best matches for *any* of the query's words are the seeds (score 1.0
for the best, the others by their bm25 rank relative to it); then, for each hop, the
entries linked to what was found so far (either direction) join with half their
parent's score. An entry reached twice keeps its best score and the path that gave
it; results are ranked by score, then by hop, then by id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid
from ....schemas.knowledge import (
    KnowledgeRetrieve,
    KnowledgeSearch,
    KnowledgeSearchResults,
    RetrievalResult,
    RetrievedEntry,
    RetrievedStep,
    SearchHit,
)
from ... import fts
from ...pagination import decode_cursor, encode_cursor
from ...tables import (
    KnowledgeEntryRow,
    KnowledgeEntryTagRow,
    KnowledgeFileRow,
    KnowledgeLinkRow,
)
from .access import Scope
from .convert import entry_brief, entry_full, excerpt

HOP_DECAY = 0.5
MAX_LINKS_PER_HOP = 2000
MAX_OFFSET = 10_000


def _filters(scope: Scope, namespaces: list[str] | None, tags: list[str] | None, include_hidden: bool) -> list[Any]:
    where = [scope.where(col(KnowledgeEntryRow.namespace), namespaces), col(KnowledgeEntryRow.status) == "active"]
    if not include_hidden:
        where.append(col(KnowledgeEntryRow.visibility) == "visible")
    for tag in tags or []:  # every tag must be on the entry
        where.append(select(col(KnowledgeEntryTagRow.entry_id)).where(
            col(KnowledgeEntryTagRow.entry_id) == col(KnowledgeEntryRow.id),
            col(KnowledgeEntryTagRow.tag) == tag).exists())
    return where


async def _run(s: AsyncSession, stmt: Any) -> list[Any]:
    try:
        return list((await s.execute(stmt)).all())
    except DBAPIError as exc:  # a query FTS5 refuses is the caller's mistake, never a 500
        if fts.is_query_error(exc):
            raise fts.query_error(exc) from None
        raise


async def _snippets(s: AsyncSession, expression: str, rowids: list[int]) -> dict[int, tuple[str, str]]:
    if not rowids:
        return {}
    rows = await _run(s, fts.snippets(expression, rowids))
    return {int(r[0]): (str(r[1] or ""), str(r[2] or "")) for r in rows}


async def _ranked(s: AsyncSession, expression: str, where: list[Any], offset: int, limit: int,
                  with_total: bool) -> list[Any]:
    """``(entry id, rank, total)`` of one page of matches, best first. Only keys are
    sorted: the page's rows are loaded afterwards (``_rows``), not every match's body."""
    hits = fts.ranked_matches(expression)
    total = func.count().over() if with_total else literal(0)
    stmt = (select(col(KnowledgeEntryRow.id), hits.c.rank, total.label("total")).select_from(hits)
            .join(KnowledgeEntryRow, col(KnowledgeEntryRow.fts_rowid) == hits.c.fts_rowid).where(*where)
            .order_by(hits.c.rank, col(KnowledgeEntryRow.id)).offset(offset).limit(limit))
    return await _run(s, stmt)


async def _rows(s: AsyncSession, ids: list[str]) -> dict[str, tuple[KnowledgeEntryRow, str | None]]:
    if not ids:
        return {}
    found = await s.execute(select(KnowledgeEntryRow, col(KnowledgeFileRow.filename))
                            .outerjoin(KnowledgeFileRow,
                                       col(KnowledgeFileRow.id) == col(KnowledgeEntryRow.source_file_id))
                            .where(col(KnowledgeEntryRow.id).in_(ids)))
    return {row.id: (row, name) for row, name in found.all()}


async def run_search(s: AsyncSession, scope: Scope, data: KnowledgeSearch) -> KnowledgeSearchResults:
    expression = fts.match_expression(data.query, data.match)
    offset = 0
    if data.cursor:
        offset = int(decode_cursor(data.cursor, 1)[0])
        if not 0 <= offset <= MAX_OFFSET:
            raise Invalid("cursor is not one this server issued")
    ranked = await _ranked(s, expression, _filters(scope, data.namespaces, data.tags, data.include_hidden), offset,
                           data.limit + 1, with_total=True)
    page = ranked[: data.limit]
    rows = await _rows(s, [r[0] for r in page])
    snips = await _snippets(s, expression, [rows[r[0]][0].fts_rowid for r in page])
    items = []
    for entry_id, rank, _total in page:
        row, filename = rows[entry_id]
        title_snip, body_snip = snips.get(row.fts_rowid, ("", ""))
        items.append(SearchHit(entry=entry_brief(row, filename), score=-float(rank), snippet=body_snip or
                               excerpt(row.body), title_snippet=title_snip or row.title))
    more = len(ranked) > data.limit and offset + data.limit < MAX_OFFSET
    return KnowledgeSearchResults(query=expression, items=items, total=int(ranked[0][2]) if ranked else 0,
                                  next_cursor=encode_cursor([offset + data.limit]) if more else None)


async def run_retrieve(s: AsyncSession, scope: Scope, data: KnowledgeRetrieve) -> RetrievalResult:
    expression = fts.match_expression(data.query, "any")
    where = _filters(scope, data.namespaces, data.tags, False)
    ranked = await _ranked(s, expression, where, 0, data.limit, with_total=False)
    loaded = await _rows(s, [r[0] for r in ranked])
    seeds = [(loaded[entry_id][0], rank) for entry_id, rank, _ in ranked]
    snips = await _snippets(s, expression, [r[0].fts_rowid for r in seeds])
    best = min((float(r[1]) for r in seeds), default=-1.0)
    # entry id -> (score, hop, path, row)
    found: dict[str, tuple[float, int, list[RetrievedStep], KnowledgeEntryRow]] = {}
    for row, rank in seeds:
        score = float(rank) / best if best < 0 else 1.0
        found[row.id] = (round(score, 6), 0, [RetrievedStep(entry_id=row.id, title=row.title)], row)
    frontier = list(found)
    # Linked entries must pass the same filters except the tag filter: tags pick the seeds.
    reach = _filters(scope, data.namespaces, None, False)
    for _hop in range(1, data.hops + 1):
        if not frontier:
            break
        links = (await s.scalars(select(KnowledgeLinkRow).where(or_(
            col(KnowledgeLinkRow.source_id).in_(frontier), col(KnowledgeLinkRow.target_id).in_(frontier)))
            .order_by(col(KnowledgeLinkRow.id)).limit(MAX_LINKS_PER_HOP))).all()
        pending: list[tuple[str, str, KnowledgeLinkRow, str]] = []  # (parent, other, link, direction)
        ends = set(frontier)
        for link in links:
            if link.source_id in ends:
                pending.append((link.source_id, link.target_id, link, "out"))
            if link.target_id in ends:
                pending.append((link.target_id, link.source_id, link, "in"))
        others = {o for _, o, _, _ in pending if o not in found}
        rows = {}
        if others:
            rows = {r.id: r for r in (await s.scalars(select(KnowledgeEntryRow)
                                                      .where(col(KnowledgeEntryRow.id).in_(others), *reach))).all()}
        next_frontier: list[str] = []
        for parent, other, link, direction in pending:
            target = rows.get(other) or (found[other][3] if other in found else None)
            if target is None:
                continue  # invisible, hidden, archived or filtered out
            p_score, _, p_path, _ = found[parent]
            score = round(p_score * HOP_DECAY, 6)
            if other in found and found[other][0] >= score:
                continue
            step = RetrievedStep(entry_id=other, title=target.title, link_id=link.id, link_kind=link.kind,
                                 direction=direction)  # type: ignore[arg-type]
            if other not in found:
                next_frontier.append(other)
            path = [*p_path, step]
            found[other] = (score, len(path) - 1, path, target)
        frontier = next_frontier
    ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0]))[: data.max_results]
    file_ids = {v[3].source_file_id for _, v in ranked if v[3].source_file_id}
    names = dict((await s.execute(select(col(KnowledgeFileRow.id), col(KnowledgeFileRow.filename))
                                  .where(col(KnowledgeFileRow.id).in_(file_ids)))).all()) if file_ids else {}
    items = [
        RetrievedEntry(entry=entry_full(row, names.get(row.source_file_id or "")), score=score, hop=hop, path=path,
                       snippet=snips.get(row.fts_rowid, ("", ""))[1] or excerpt(row.body))
        for _, (score, hop, path, row) in ranked
    ]
    return RetrievalResult(query=expression, items=items, seeds=len(seeds),
                           expanded=sum(1 for i in items if i.hop > 0))
