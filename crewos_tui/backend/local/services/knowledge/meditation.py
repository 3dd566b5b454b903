"""Meditation: a deterministic pass over the knowledge base that fills the governance
queue (admin only; runs are listed).

1. Each visible, active entry (the newest ``MAX_SCAN`` of the chosen namespaces) gets
   its salient terms: TF-IDF over title (×3), tags (×3) and body words.
2. Entries of one namespace that share at least ``min_shared_terms`` salient terms are
   candidate pairs (a term among the top terms of more than ``COMMON_TERM`` entries
   is too common to count). A pair whose 4-word-shingle Jaccard similarity reaches
   ``duplicate_threshold`` is proposed for merging; otherwise, if not linked yet, it
   is proposed as a ``related`` link, scored by the cosine of the term weights.
3. Entries with no links at all (and no proposal from this run) are flagged as
   orphans; entries not updated for ``stale_days`` as stale.
4. Proposals are capped at ``max_proposals`` (merges first, then links, stale,
   orphans, each best first); one already queued or decided before is skipped.

The same data gives the same proposals. The built-in pass needs no model; the
``mode`` of a run says which pass ran.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from itertools import combinations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import NotFound
from ....principal import Principal
from ....schemas import Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.knowledge import MeditationRun, MeditationTrigger
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import (
    KnowledgeEntryRow,
    KnowledgeGovernanceRow,
    KnowledgeLinkRow,
    KnowledgeMeditationRunRow,
)
from .._common import require_admin
from .access import scope_of
from .convert import meditation_model
from .terms import cosine, jaccard, shingles, term_counts, top_terms

MAX_SCAN = 5000
TOP_TERMS = 8
COMMON_TERM = 50
PROPOSER = "meditation"


class _Proposal:
    __slots__ = ("entry", "fingerprint", "kind", "link_kind", "other", "reason", "score")

    def __init__(self, kind: str, entry: KnowledgeEntryRow, other: KnowledgeEntryRow | None, score: float,
                 reason: str, fingerprint: str, link_kind: str | None = None) -> None:
        self.kind, self.entry, self.other, self.score = kind, entry, other, round(score, 4)
        self.reason, self.fingerprint, self.link_kind = reason, fingerprint, link_kind


def _pair(a: KnowledgeEntryRow, b: KnowledgeEntryRow) -> tuple[KnowledgeEntryRow, KnowledgeEntryRow]:
    return (a, b) if a.id < b.id else (b, a)  # the older entry first: it is the one kept


def propose(rows: list[KnowledgeEntryRow], linked_pairs: set[tuple[str, str]], linked: set[str], now: object,
            data: MeditationTrigger) -> list[_Proposal]:
    """Every proposal for ``rows`` in priority order (pure: no database)."""
    counts = {r.id: term_counts(r.title, r.body, r.tags or []) for r in rows}
    df: Counter[str] = Counter()
    for c in counts.values():
        df.update(c.keys())
    top = {r.id: top_terms(counts[r.id], df, len(rows), TOP_TERMS) for r in rows}
    postings: dict[str, list[KnowledgeEntryRow]] = defaultdict(list)
    for r in rows:
        for term in top[r.id]:
            postings[term].append(r)
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_id = {r.id: r for r in rows}
    for term in sorted(postings):
        members = postings[term]
        if len(members) < 2 or len(members) > COMMON_TERM:
            continue
        for a, b in combinations(members, 2):
            if a.namespace == b.namespace:
                first, second = _pair(a, b)
                shared[(first.id, second.id)].append(term)
    shingle_cache: dict[str, set[int]] = {}

    def shingles_of(r: KnowledgeEntryRow) -> set[int]:
        if r.id not in shingle_cache:
            shingle_cache[r.id] = shingles(f"{r.title}\n{r.body}")
        return shingle_cache[r.id]

    merges, links = [], []
    for (a_id, b_id), terms in sorted(shared.items()):
        if len(terms) < data.min_shared_terms:
            continue
        a, b = by_id[a_id], by_id[b_id]
        similarity = jaccard(shingles_of(a), shingles_of(b))
        if similarity >= data.duplicate_threshold:
            merges.append(_Proposal("merge", a, b, similarity,
                                    f"near-duplicates: {similarity:.0%} of their wording is shared",
                                    f"merge:{a.id}:{b.id}"))
        elif (a.id, b.id) not in linked_pairs:
            words = ", ".join(sorted(terms)[:5])
            links.append(_Proposal("link", a, b, cosine(top[a.id], top[b.id]), f"share salient terms: {words}",
                                   f"link:{a.id}:{b.id}", "related"))
    merges.sort(key=lambda p: (-p.score, p.fingerprint))
    links.sort(key=lambda p: (-p.score, p.fingerprint))
    proposed = {x for p in merges + links for x in (p.entry.id, p.other.id if p.other else "")}
    cutoff = now - timedelta(days=data.stale_days)  # type: ignore[operator]
    stale = sorted((r for r in rows if r.updated_at < cutoff), key=lambda r: (r.updated_at, r.id))
    orphans = [r for r in sorted(rows, key=lambda r: r.id) if r.id not in linked and r.id not in proposed]
    return [
        *merges, *links,
        *(_Proposal("stale", r, None, 0.0, f"not updated since {r.updated_at:%Y-%m-%d} "
                    f"(over {data.stale_days} days)", f"stale:{r.id}:v{r.version}") for r in stale),
        *(_Proposal("orphan", r, None, 0.0, "nothing links to or from this entry", f"orphan:{r.id}")
          for r in orphans),
    ]


class KnowledgeMeditation:
    ctx: ServiceContext

    @idempotent(MeditationRun)
    async def trigger_meditation(self, principal: Principal, data: MeditationTrigger | None = None) -> MeditationRun:
        """Run the meditation pass now (admin); its proposals land in the governance queue."""
        require_admin(principal)
        data = data or MeditationTrigger()
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            names = list(dict.fromkeys(data.namespaces)) if data.namespaces else list(scope.existing)
            for name in names:
                if name not in scope.existing:
                    raise NotFound(f"namespace {name!r} not found")
            now = self.ctx.clock.now()
            run = KnowledgeMeditationRunRow(id=self.ctx.ids.new(), status="running", namespaces=names,
                                            triggered_by=principal.username, started_at=now)
            s.add(run)
            rows = list((await s.scalars(select(KnowledgeEntryRow).where(
                col(KnowledgeEntryRow.namespace).in_(names), col(KnowledgeEntryRow.status) == "active",
                col(KnowledgeEntryRow.visibility) == "visible").order_by(col(KnowledgeEntryRow.id).desc())
                .limit(MAX_SCAN))).all())
            linked_pairs, linked = await self._links_among(s, [r.id for r in rows])
            proposals = propose(rows, linked_pairs, linked, now, data)
            seen = await self._known_fingerprints(s, [p.fingerprint for p in proposals])
            fresh = [p for p in proposals if p.fingerprint not in seen][: data.max_proposals]
            for p in fresh:
                s.add(KnowledgeGovernanceRow(
                    id=self.ctx.ids.new(), kind=p.kind, namespace=p.entry.namespace, entry_id=p.entry.id,
                    other_id=p.other.id if p.other else None, link_kind=p.link_kind, score=p.score, reason=p.reason,
                    fingerprint=p.fingerprint, proposed_by=PROPOSER, run_id=run.id, created_at=now))
            stats = Counter(p.kind for p in fresh)
            run.stats = {"entries_scanned": len(rows), "links_proposed": stats["link"],
                         "merges_proposed": stats["merge"], "orphans_flagged": stats["orphan"],
                         "stale_flagged": stats["stale"],
                         "already_queued": sum(1 for p in proposals if p.fingerprint in seen)}
            capped = " (the newest only)" if len(rows) >= MAX_SCAN else ""
            run.message = (f"scanned {len(rows)} entries{capped} in {len(names)} namespace(s); proposed "
                           f"{stats['link']} link(s) and {stats['merge']} merge(s), flagged {stats['orphan']} "
                           f"orphan(s) and {stats['stale']} stale entr{'y' if stats['stale'] == 1 else 'ies'}")
            if len(proposals) - run.stats["already_queued"] > len(fresh):
                run.message += f"; {len(proposals) - run.stats['already_queued'] - len(fresh)} more over the cap"
            run.status, run.finished_at = "completed", self.ctx.clock.now()
            await self.ctx.events.emit(s, principal, "knowledge.meditation_completed", "knowledge_meditation_run",
                                       run.id, namespaces=names, **run.stats)
            return meditation_model(run)

    async def meditation_runs(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[MeditationRun]:
        """Recent meditation runs, newest first (admin)."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            return await paginate(s, select(KnowledgeMeditationRunRow), [col(KnowledgeMeditationRunRow.id)],
                                  lambda r: [r.id], meditation_model, limit=limit, cursor=cursor, descending=True)

    @staticmethod
    async def _links_among(s: AsyncSession, ids: list[str]) -> tuple[set[tuple[str, str]], set[str]]:
        pairs: set[tuple[str, str]] = set()
        linked: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = (await s.execute(select(col(KnowledgeLinkRow.source_id), col(KnowledgeLinkRow.target_id)).where(or_(
                col(KnowledgeLinkRow.source_id).in_(chunk), col(KnowledgeLinkRow.target_id).in_(chunk))))).all()
            for a, b in rows:
                pairs.add((a, b) if a < b else (b, a))
                linked.update((a, b))
        return pairs, linked

    @staticmethod
    async def _known_fingerprints(s: AsyncSession, fingerprints: list[str]) -> set[str]:
        seen: set[str] = set()
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start:start + 500]
            seen.update((await s.scalars(select(col(KnowledgeGovernanceRow.fingerprint))
                                         .where(col(KnowledgeGovernanceRow.fingerprint).in_(chunk)))).all())
        return seen
