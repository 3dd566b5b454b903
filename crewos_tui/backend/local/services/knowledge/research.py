"""Web research for knowledge-base intake (admin): a run reviews candidate sources for a
topic, an admin approves or rejects them in a batch, and approved ones become entries.

This server does not fetch the web. A run works on what its request supplies — URLs
with their pasted content, or files' text — and says so in ``fetch_note``; a bare
URL becomes an ``unfetched`` candidate that cannot be approved. Nothing is invented.

The reviewing agent is built in and deterministic: a candidate's ``score`` is the
share of the topic's words it mentions; it is recommended for approval when that
is at least a third, it has some substance (``MIN_CHARS``) and it is not a
near-duplicate (shingle Jaccard ≥ ``DUPLICATE``) of an entry already in the namespace.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas import Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.knowledge import (
    KnowledgeSearch,
    ResearchBatch,
    ResearchBatchResult,
    ResearchRun,
    ResearchRunCreate,
    ResearchSource,
)
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import (
    KnowledgeEntryRow,
    KnowledgeFileRow,
    KnowledgeResearchCandidateRow,
    KnowledgeResearchRunRow,
)
from .._common import require_admin
from .access import Scope, ensure_namespace, scope_of
from .convert import research_model
from .ingest import add_sections
from .search import run_search
from .split import html_to_markdown, split_document
from .terms import jaccard, shingles, term_counts, words

FETCH_NOTE = ("This server does not fetch web pages: a run reviews only the sources supplied with it (a URL "
              "with its pasted content, or a file's text). A URL given without content is listed as "
              "'unfetched' and cannot be approved; paste its content into a new run.")
MIN_CHARS = 80
APPROVE_SCORE = 0.34
DUPLICATE = 0.7
RESEARCH_TAG = "web-research"


def _looks_like_html(text: str) -> bool:
    return bool(re.search(r"<(html|body|p|div|h[1-6]|article)\b", text[:2000], re.IGNORECASE))


def _source_name(source: ResearchSource) -> str:
    if source.filename:
        return source.filename
    parts = urlsplit(source.url or "")
    return (parts.netloc + parts.path).rstrip("/") or (source.url or "source")


def _file_name(candidate: KnowledgeResearchCandidateRow) -> str:
    base = candidate.filename or candidate.url or candidate.title
    if candidate.url and not candidate.filename:
        parts = urlsplit(candidate.url)
        base = f"{parts.netloc}{parts.path}"
    base = re.sub(r"\.(html?|md|markdown|txt)$", "", base.strip("/"), flags=re.IGNORECASE)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.")[:100] or "source"
    return f"{slug}.md"


@dataclass
class Review:
    title: str
    content: str
    status: str
    recommendation: str
    score: float
    reasons: list[str]


#: A letter or a digit: content without one has no text an entry could hold.
_USABLE = re.compile(r"[^\W_]")


def review_source(topic: str, source: ResearchSource) -> Review:
    """The reviewing agent's view of one source (no database). Content that was given but
    holds no text (blank, markup only, a bare heading mark) is refused: Invalid."""
    content = (source.content or "").strip()
    title = source.title or ""
    if content and _looks_like_html(content):
        content, page_title = html_to_markdown(content)
        content, title = content.strip(), title or page_title
    if source.content is not None and not _USABLE.search(content):
        raise Invalid("the content has no text to review (only blanks, markup or punctuation); "
                      "paste the page's text, or leave content out to list the source as unfetched")
    if not title:
        first = next((ln.strip("# ").strip() for ln in content.splitlines() if ln.strip()), "")
        title = first[:200] or _source_name(source)
    if not content:
        return Review(title, "", "unfetched", "reject", 0.0,
                      ["no content was supplied, and this server cannot fetch the web"])
    wanted = sorted(set(words(topic)))
    present = set(term_counts(title, content).keys())
    hits = [w for w in wanted if w in present]
    score = round(len(hits) / len(wanted), 4) if wanted else 0.0
    reasons = [f"mentions {len(hits)} of {len(wanted)} topic terms" + (f": {', '.join(hits[:8])}" if hits else "")]
    approve = score >= APPROVE_SCORE
    if len(content) < MIN_CHARS:
        reasons.append(f"too short to be worth an entry ({len(content)} characters)")
        approve = False
    return Review(title, content, "pending", "approve" if approve else "reject", score, reasons)


async def _duplicate_of(s: AsyncSession, scope: Scope, namespace: str, content: str) -> tuple[str, float] | None:
    """An entry of the namespace whose wording this content mostly repeats."""
    if namespace not in scope.existing:
        return None
    top = [w for w, _ in term_counts("", content).most_common(8)]
    if not top:
        return None
    hits = await run_search(s, scope, KnowledgeSearch(query=" ".join(top), namespaces=[namespace], match="any",
                                                      include_hidden=True, limit=5))
    mine = shingles(content)
    best: tuple[str, float] | None = None
    for hit in hits.items:
        body = await s.scalar(select(col(KnowledgeEntryRow.body)).where(col(KnowledgeEntryRow.id) == hit.entry.id))
        similarity = jaccard(mine, shingles(f"{body or ''}"))
        if similarity >= DUPLICATE and (best is None or similarity > best[1]):
            best = (hit.entry.id, similarity)
    return best


class KnowledgeResearch:
    ctx: ServiceContext

    @idempotent(ResearchRun)
    async def start_research(self, principal: Principal, data: ResearchRunCreate) -> ResearchRun:
        """Review the supplied sources for ``topic`` into candidates (admin)."""
        require_admin(principal)
        async with self.ctx.db.transaction() as s:
            scope = await scope_of(s, principal)
            now = self.ctx.clock.now()
            run = KnowledgeResearchRunRow(id=self.ctx.ids.new(), topic=data.topic, namespace=data.namespace,
                                          tags=list(data.tags), web_fetch=False, fetch_note=FETCH_NOTE,
                                          created_by=principal.username, created_at=now, updated_at=now)
            s.add(run)
            # The run first: with no relationship() between the rows, one flush of a run and
            # its candidates may insert a candidate first (FOREIGN KEY failed, a 500), which
            # it did when no source had content to compare against the namespace.
            await s.flush()
            candidates = []
            for i, source in enumerate(data.sources):
                try:
                    view = review_source(data.topic, source)
                except Invalid as exc:
                    raise Invalid(f"sources.{i}.content: {exc.detail}") from None
                row = KnowledgeResearchCandidateRow(
                    id=self.ctx.ids.new(), run_id=run.id, url=source.url, filename=source.filename,
                    title=view.title[:200], content=view.content, status=view.status,
                    recommendation=view.recommendation, score=view.score, reasons=view.reasons)
                if row.content:
                    dup = await _duplicate_of(s, scope, data.namespace, row.content)
                    if dup is not None:
                        row.duplicate_of, row.recommendation = dup[0], "reject"
                        row.reasons = [*row.reasons, f"repeats entry {dup[0]} ({dup[1]:.0%} of its wording)"]
                candidates.append(row)
                s.add(row)
            run.status = "review" if any(c.status == "pending" for c in candidates) else "done"
            await self.ctx.events.emit(s, principal, "knowledge.research_run_created", "knowledge_research_run",
                                       run.id, topic=data.topic, namespace=data.namespace,
                                       candidates=len(candidates), user_id=principal.user_id)
            return research_model(run, candidates, detail=True)

    async def research_runs(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ResearchRun]:
        """Recent research runs, newest first, with candidate counts (admin)."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            page = await paginate(s, select(KnowledgeResearchRunRow), [col(KnowledgeResearchRunRow.id)],
                                  lambda r: [r.id], lambda r: r, limit=limit, cursor=cursor, descending=True)
            ids = [r.id for r in page.items]
            rows = (await s.scalars(select(KnowledgeResearchCandidateRow)
                                    .where(col(KnowledgeResearchCandidateRow.run_id).in_(ids)))).all() if ids else []
        by_run: dict[str, list[KnowledgeResearchCandidateRow]] = {}
        for c in rows:
            by_run.setdefault(c.run_id, []).append(c)
        return Page[ResearchRun](items=[research_model(r, by_run.get(r.id, []), detail=False) for r in page.items],
                                 next_cursor=page.next_cursor)

    async def _run(self, s: AsyncSession, run_id: str) -> tuple[KnowledgeResearchRunRow,
                                                                list[KnowledgeResearchCandidateRow]]:
        run = await s.get(KnowledgeResearchRunRow, run_id)
        if run is None:
            raise NotFound(f"research run {run_id} not found")
        candidates = (await s.scalars(select(KnowledgeResearchCandidateRow)
                                      .where(col(KnowledgeResearchCandidateRow.run_id) == run_id)
                                      .order_by(col(KnowledgeResearchCandidateRow.id)))).all()
        return run, list(candidates)

    async def research_run(self, principal: Principal, run_id: str) -> ResearchRun:
        """One research run with its candidates (admin)."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            run, candidates = await self._run(s, run_id)
            return research_model(run, candidates, detail=True)

    async def decide_research(self, principal: Principal, run_id: str, data: ResearchBatch) -> ResearchBatchResult:
        """Approve (ingest as entries) and reject candidates in one go (admin)."""
        require_admin(principal)
        both = set(data.approve) & set(data.reject)
        if both:
            raise Invalid(f"candidate(s) both approved and rejected: {', '.join(sorted(both))}")
        if not data.approve and not data.reject:
            raise Invalid("nothing to decide: list candidate ids under approve and/or reject")
        async with self.ctx.db.transaction() as s:
            run, candidates = await self._run(s, run_id)
            by_id = {c.id: c for c in candidates}
            scope = await scope_of(s, principal)
            now = self.ctx.clock.now()
            approved, rejected, entry_ids, skipped = [], [], [], {}
            for cid in dict.fromkeys(data.approve):
                c = by_id.get(cid)
                if c is None:
                    skipped[cid] = "not a candidate of this run"
                elif c.status != "pending":
                    skipped[cid] = f"already {c.status}" if c.status != "unfetched" else \
                        "unfetched: it has no content to ingest"
                else:
                    await ensure_namespace(s, scope, run.namespace, now)
                    c.entry_ids = await self._ingest(s, principal, run, c)
                    c.status, c.decided_by, c.decided_at = "approved", principal.username, now
                    approved.append(cid)
                    entry_ids.extend(c.entry_ids)
            for cid in dict.fromkeys(data.reject):
                c = by_id.get(cid)
                if c is None:
                    skipped[cid] = "not a candidate of this run"
                elif c.status not in ("pending", "unfetched"):
                    skipped[cid] = f"already {c.status}"
                else:
                    c.status, c.decided_by, c.decided_at = "rejected", principal.username, now
                    rejected.append(cid)
            if not approved and not rejected:
                raise Conflict("no candidate could be decided: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
            run.updated_at = now
            run.status = "review" if any(c.status == "pending" for c in candidates) else "done"
            await self.ctx.events.emit(s, principal, "knowledge.research_decided", "knowledge_research_run", run.id,
                                       approved=approved, rejected=rejected, entries=len(entry_ids),
                                       namespace=run.namespace, comment=data.comment)
            return ResearchBatchResult(run=research_model(run, candidates, detail=True), approved=approved,
                                       rejected=rejected, entry_ids=entry_ids, skipped=skipped)

    async def _ingest(self, s: AsyncSession, principal: Principal, run: KnowledgeResearchRunRow,
                      c: KnowledgeResearchCandidateRow) -> list[str]:
        """An approved candidate becomes a source file (markdown, with where it came from) and entries."""
        now = self.ctx.clock.now()
        name = _file_name(c)
        taken = set((await s.scalars(select(col(KnowledgeFileRow.filename))
                                     .where(col(KnowledgeFileRow.namespace) == run.namespace))).all())
        stem, n = name[:-3], 2
        while name in taken:
            name, n = f"{stem}-{n}.md", n + 1
        heading = "" if c.content.lstrip().startswith("#") else f"# {c.title}\n\n"
        origin = f"\n\nSource: {c.url}" if c.url else ""
        text = f"{heading}{c.content.strip()}{origin}\n"
        raw = text.encode()
        file = KnowledgeFileRow(id=self.ctx.ids.new(), namespace=run.namespace, filename=name,
                                content_type="text/markdown", size=len(raw), content=raw,
                                content_hash=hashlib.sha256(raw).hexdigest(), source="web_research",
                                tags=list(dict.fromkeys([*run.tags, RESEARCH_TAG])), created_by=principal.username,
                                created_by_id=principal.user_id, created_at=now, updated_at=now)
        s.add(file)
        await s.flush()
        sections = split_document("markdown", text, name, 4000)
        ids = await add_sections(self.ctx, s, principal, file, sections)
        file.entry_count = len(ids)
        return ids
