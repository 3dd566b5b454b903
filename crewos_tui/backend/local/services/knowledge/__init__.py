"""Knowledge base and wiki graph: one service object, split by concern.

Rules live in ``access.py`` (namespaces), full-text search behind ``local/fts.py``;
agents use ``agents.py``. Large ingests run as the ``knowledge_ingest`` durable job.
"""

from __future__ import annotations

from ....principal import Principal
from ....schemas.knowledge import (
    KnowledgeRetrieve,
    KnowledgeSearch,
    KnowledgeSearchResults,
    RetrievalResult,
)
from ...context import ServiceContext
from .access import scope_of
from .entries import KnowledgeEntries
from .files import KnowledgeFiles
from .governance import KnowledgeGovernance
from .ingest import KnowledgeIngestion
from .links import KnowledgeLinks
from .meditation import KnowledgeMeditation
from .research import KnowledgeResearch
from .search import run_retrieve, run_search


class KnowledgeService(KnowledgeEntries, KnowledgeIngestion, KnowledgeFiles, KnowledgeLinks, KnowledgeGovernance,
                       KnowledgeMeditation, KnowledgeResearch):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        from .ingest_job import register

        register()  # the knowledge_ingest job kind

    async def search(self, principal: Principal, data: KnowledgeSearch) -> KnowledgeSearchResults:
        """Ranked full-text search over the caller's namespaces, with snippets."""
        async with self.ctx.db.read() as s:
            return await run_search(s, await scope_of(s, principal), data)

    async def retrieve(self, principal: Principal, data: KnowledgeRetrieve) -> RetrievalResult:
        """The best matches plus the entries linked to them (graph-aware context)."""
        async with self.ctx.db.read() as s:
            return await run_retrieve(s, await scope_of(s, principal), data)


__all__ = ["KnowledgeService"]
