"""What the Backend offers for the knowledge base and wiki graph."""

from __future__ import annotations

from typing import Protocol

from ..schemas import Deleted, Page
from ..schemas.common import DEFAULT_LIMIT
from ..schemas.knowledge import (
    GovernanceActionRequest,
    GovernanceActionResult,
    GovernanceQueues,
    IngestResult,
    KnowledgeEntry,
    KnowledgeEntryBrief,
    KnowledgeEntryCreate,
    KnowledgeEntryUpdate,
    KnowledgeFile,
    KnowledgeFileContent,
    KnowledgeFileDeleted,
    KnowledgeFileVisibility,
    KnowledgeIngest,
    KnowledgeNamespace,
    KnowledgeRetrieve,
    KnowledgeSearch,
    KnowledgeSearchResults,
    MeditationRun,
    MeditationTrigger,
    ResearchBatch,
    ResearchBatchResult,
    ResearchRun,
    ResearchRunCreate,
    RetrievalResult,
    WikiGraph,
    WikiLink,
    WikiLinkCreate,
    WikiLinkUpdate,
)


class KnowledgeAPI(Protocol):
    async def namespaces(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[KnowledgeNamespace]:
        """Namespaces the caller's grants allow (admins: all), with entry and file counts."""
        ...

    async def search(self, data: KnowledgeSearch) -> KnowledgeSearchResults:
        """Ranked full-text search (bm25) with snippets; words are plain words, never syntax."""
        ...

    async def retrieve(self, data: KnowledgeRetrieve) -> RetrievalResult:
        """Graph-aware context: best matches plus linked entries, each with the path that found it."""
        ...

    async def list(
        self,
        namespace: str | None = None,
        tag: str | None = None,
        q: str | None = None,
        status: str | None = None,
        visibility: str | None = None,
        file_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[KnowledgeEntryBrief]:
        """Entries of the caller's namespaces, newest first; ``q`` filters titles."""
        ...

    async def create(self, data: KnowledgeEntryCreate) -> KnowledgeEntry:
        """Write an entry (members, in granted namespaces; a new namespace is created on first use)."""
        ...

    async def get(self, entry_id: str, version: int | None = None) -> KnowledgeEntry:
        """One entry with its versions; ``version`` shows an earlier one."""
        ...

    async def update(self, entry_id: str, data: KnowledgeEntryUpdate) -> KnowledgeEntry:
        """Change an entry; the previous version is kept."""
        ...

    async def delete(self, entry_id: str) -> Deleted:
        """Delete an entry with its links."""
        ...

    async def ingest(self, data: KnowledgeIngest) -> IngestResult:
        """Split a document into entries; a large one runs as a background job (``job_id``)."""
        ...

    async def list_files(
        self, namespace: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[KnowledgeFile]:
        """Source files (entry groups), newest first."""
        ...

    async def delete_file(
        self, file_id: str | None = None, namespace: str | None = None, filename: str | None = None
    ) -> KnowledgeFileDeleted:
        """Delete a file group and its entries (by id, or namespace and file name)."""
        ...

    async def set_file_visibility(self, data: KnowledgeFileVisibility) -> KnowledgeFile:
        """Show or hide a file group's entries."""
        ...

    async def download_file(self, entry_id: str) -> KnowledgeFileContent:
        """The source file an entry was ingested from."""
        ...

    async def wiki_graph(
        self, namespace: str | None = None, entry_id: str | None = None, depth: int = 1, max_nodes: int = 200
    ) -> WikiGraph:
        """A namespace's nodes and edges, or an entry's neighbourhood within ``depth`` links."""
        ...

    async def governance(
        self,
        namespace: str | None = None,
        kind: str | None = None,
        status: str = "pending",
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> GovernanceQueues:
        """The governance queue (proposed links and merges, orphans, stale entries)."""
        ...

    async def apply_governance(self, data: GovernanceActionRequest) -> GovernanceActionResult:
        """Accept, reject, merge or archive one queued item."""
        ...

    async def list_links(
        self, entry_id: str, direction: str = "both", kind: str | None = None, limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[WikiLink]:
        """An entry's links in and/or out."""
        ...

    async def create_link(self, entry_id: str, data: WikiLinkCreate) -> WikiLink:
        """Link an entry to another (typed)."""
        ...

    async def update_link(self, entry_id: str, link_id: str, data: WikiLinkUpdate) -> WikiLink:
        """Change a link's kind or note."""
        ...

    async def delete_link(self, entry_id: str, link_id: str) -> Deleted:
        """Remove a link."""
        ...

    async def trigger_meditation(self, data: MeditationTrigger | None = None) -> MeditationRun:
        """Admin: run the meditation pass now; proposals go to the governance queue."""
        ...

    async def meditation_runs(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[MeditationRun]:
        """Admin: recent meditation runs."""
        ...

    async def start_research(self, data: ResearchRunCreate) -> ResearchRun:
        """Admin: review supplied sources (no web fetching here) into candidates."""
        ...

    async def research_runs(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ResearchRun]:
        """Admin: recent research runs."""
        ...

    async def research_run(self, run_id: str) -> ResearchRun:
        """Admin: one research run with its candidates."""
        ...

    async def decide_research(self, run_id: str, data: ResearchBatch) -> ResearchBatchResult:
        """Admin: approve (ingest) and reject candidates in one batch."""
        ...
