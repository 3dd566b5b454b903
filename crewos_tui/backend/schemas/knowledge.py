"""Knowledge base and wiki graph: namespaces, entries, search and retrieval, ingest and
source files, wiki links and the graph, governance, meditation and web research."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from .common import MAX_SQL_INT, Id, Request, Wire
from .text import MULTI_LINE, ONE_LINE

__all__ = [
    "MAX_BODY_CHARS", "NAMESPACE_RE", "EntryStatus", "GovernanceAction", "GovernanceActionRequest",
    "GovernanceActionResult", "GovernanceItem", "GovernanceKind", "GovernanceQueues", "GovernanceStatus",
    "GraphEdge", "GraphNode", "IngestResult", "KnowledgeEntry", "KnowledgeEntryBrief", "KnowledgeEntryCreate",
    "KnowledgeEntryUpdate", "KnowledgeEntryVersion", "KnowledgeFile", "KnowledgeFileContent",
    "KnowledgeFileDeleted", "KnowledgeFileVisibility", "KnowledgeIngest", "KnowledgeNamespace", "KnowledgeRetrieve",
    "KnowledgeSearch", "KnowledgeSearchResults", "LinkKind", "MeditationRun", "MeditationTrigger", "ResearchBatch",
    "ResearchBatchResult", "ResearchCandidate", "ResearchRun", "ResearchRunCreate", "ResearchSource",
    "RetrievalResult", "RetrievedEntry", "RetrievedStep", "SearchHit", "Visibility", "WikiGraph", "WikiLink",
    "WikiLinkCreate", "WikiLinkUpdate",
]

#: A concrete namespace name (grants may also hold patterns with ``*``).
NAMESPACE_RE = r"^[A-Za-z0-9_.:/@-]{1,120}$"
MAX_BODY_CHARS = 100_000

Namespace = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120,
                                             pattern=NAMESPACE_RE), ONE_LINE]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40,
                                       pattern=r"^[\w.:/+#-]+$"), ONE_LINE]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Body = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS), MULTI_LINE]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), MULTI_LINE]
Query = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), ONE_LINE]
Tags = Annotated[list[Tag], Field(max_length=20)]


class Visibility(StrEnum):
    visible = "visible"  # searched, retrieved and graphed
    hidden = "hidden"  # kept and listed, but left out of search, retrieval and the graph


class EntryStatus(StrEnum):
    active = "active"
    archived = "archived"


class LinkKind(StrEnum):
    related = "related"
    references = "references"
    depends_on = "depends_on"
    part_of = "part_of"
    example_of = "example_of"
    supersedes = "supersedes"
    contradicts = "contradicts"
    duplicates = "duplicates"


# ---- namespaces and entries ------------------------------------------------------------------


class KnowledgeNamespace(Wire):
    name: str
    description: str = ""
    entry_count: int = 0
    file_count: int = 0
    can_write: bool = False
    exists: bool = True  # False: granted to the caller, nothing written to it yet
    created_at: datetime | None = None


class KnowledgeEntryVersion(Wire):
    version: int
    title: str
    updated_by: str = ""
    created_at: datetime


class KnowledgeEntryBrief(Wire):
    """An entry in a list: everything but the full body."""

    id: str
    namespace: str
    title: str
    excerpt: str = ""
    tags: list[str] = []
    visibility: Visibility = Visibility.visible
    status: EntryStatus = EntryStatus.active
    version: int = 1
    source_file_id: str | None = None
    source_filename: str | None = None
    updated_at: datetime


class KnowledgeEntry(KnowledgeEntryBrief):
    body: str = ""
    source_section: str = ""
    merged_into: str | None = None
    created_by: str = ""
    updated_by: str = ""
    created_at: datetime
    links_out: int = 0
    links_in: int = 0
    #: Earlier versions, newest first (the entry itself is the current one).
    versions: list[KnowledgeEntryVersion] = []


class KnowledgeEntryCreate(Request):
    namespace: Namespace
    title: Title
    body: Body = ""
    tags: Tags = Field(default_factory=list)
    visibility: Visibility = Visibility.visible


class KnowledgeEntryUpdate(Request):
    """Fields left out stay as they are. ``expected_version`` guards against lost updates (409)."""

    title: Title | None = None
    body: Body | None = None
    tags: Tags | None = None
    visibility: Visibility | None = None
    namespace: Namespace | None = None
    status: EntryStatus | None = None
    expected_version: Annotated[int, Field(ge=1, le=MAX_SQL_INT)] | None = None


# ---- search and retrieval -------------------------------------------------------------------


class KnowledgeSearch(Request):
    """Full-text search. ``match="all"`` needs every word; ``"any"`` ranks entries with
    some of them. Words are plain words (no operators); ``"a phrase"`` and ``prefix*`` work.
    ``"fts5"`` takes the query as SQLite FTS5 syntax (AND/OR/NOT, NEAR, ``title:``); a
    query FTS5 refuses is a 422 that says why."""

    query: Query
    namespaces: Annotated[list[Namespace], Field(max_length=50)] | None = None
    tags: Annotated[list[Tag], Field(max_length=10)] | None = None
    match: Literal["all", "any", "fts5"] = "all"
    include_hidden: bool = False
    limit: Annotated[int, Field(ge=1, le=50)] = 20
    cursor: Annotated[str | None, StringConstraints(max_length=200)] = None


class SearchHit(Wire):
    entry: KnowledgeEntryBrief
    score: float  # higher is better (the negated bm25 rank)
    #: Matched words are marked «like this».
    snippet: str = ""
    title_snippet: str = ""


class KnowledgeSearchResults(Wire):
    query: str
    items: list[SearchHit]
    total: int = 0
    next_cursor: str | None = None


class KnowledgeRetrieve(Request):
    """Graph-aware context: the best matches (any of the words) and the entries linked to
    them within ``hops``, de-duplicated and ranked, each with the path that brought it in."""

    query: Query
    namespaces: Annotated[list[Namespace], Field(max_length=50)] | None = None
    tags: Annotated[list[Tag], Field(max_length=10)] | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 8
    hops: Annotated[int, Field(ge=0, le=2)] = 1
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


class RetrievedStep(Wire):
    entry_id: str
    title: str
    link_id: str | None = None
    link_kind: str | None = None
    direction: Literal["out", "in"] | None = None


class RetrievedEntry(Wire):
    entry: KnowledgeEntry
    score: float
    hop: int  # 0: a direct match
    snippet: str = ""
    path: list[RetrievedStep] = []


class RetrievalResult(Wire):
    query: str
    items: list[RetrievedEntry]
    seeds: int = 0
    expanded: int = 0


# ---- ingest and source files -----------------------------------------------------------------


class KnowledgeIngest(Request):
    """A document to split into entries. Give exactly one source: ``content`` (text),
    ``content_base64`` (a file's bytes) or ``project_id`` + ``document_id`` (a project
    document, read with the caller's project access)."""

    namespace: Namespace
    filename: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=255), ONE_LINE] = None
    content: str | None = None
    content_base64: str | None = None
    content_type: Annotated[str | None, StringConstraints(max_length=100)] = None
    project_id: Annotated[str | None, StringConstraints(max_length=64)] = None
    document_id: Annotated[str | None, StringConstraints(max_length=64)] = None
    tags: Tags = Field(default_factory=list)
    visibility: Visibility = Visibility.visible
    #: Replace an earlier ingest of the same file name in the namespace (else 409).
    replace: bool = False
    #: None: large documents go to a background job, small ones are done at once.
    background: bool | None = None
    max_chars: Annotated[int, Field(ge=200, le=20_000)] = 4000

    @model_validator(mode="after")
    def _one_source(self) -> KnowledgeIngest:
        given = [self.content is not None, self.content_base64 is not None,
                 self.project_id is not None or self.document_id is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of content, content_base64, or project_id with document_id")
        if given[2] and not (self.project_id and self.document_id):
            raise ValueError("a project document needs both project_id and document_id")
        if not given[2] and not self.filename:
            raise ValueError("filename is required (it names the source file and picks the format)")
        return self


class KnowledgeFile(Wire):
    id: str
    namespace: str
    filename: str
    content_type: str
    size: int
    content_hash: str
    visibility: Visibility
    status: str  # ready | ingesting | failed
    source: str  # upload | project_document | web_research
    entry_count: int = 0
    project_id: str | None = None
    document_id: str | None = None
    tags: list[str] = []
    job_id: str | None = None
    error: str | None = None
    created_by: str = ""
    created_at: datetime
    updated_at: datetime


class IngestResult(Wire):
    status: Literal["ingested", "queued"]
    file: KnowledgeFile
    entries_created: int = 0
    entry_ids: list[str] = []  # the first entries (all of them for inline ingests)
    replaced_entries: int = 0
    job_id: str | None = None  # poll /agent-jobs/{job_id} for progress


class KnowledgeFileVisibility(Request):
    """Which file group (its id, or namespace + filename) and whether its entries show."""

    file_id: Annotated[str | None, StringConstraints(max_length=64)] = None
    namespace: Namespace | None = None
    filename: Annotated[str | None, StringConstraints(max_length=255)] = None
    visibility: Visibility


class KnowledgeFileDeleted(Wire):
    id: str
    namespace: str
    filename: str
    entries_deleted: int
    deleted: bool = True


class KnowledgeFileContent(Wire):
    """A downloaded source file (the bytes are not part of any JSON answer)."""

    filename: str
    content_type: str
    size: int
    content: bytes


# ---- links and the graph --------------------------------------------------------------------


class WikiLinkCreate(Request):
    target_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    kind: LinkKind = LinkKind.related
    note: Note = ""


class WikiLinkUpdate(Request):
    kind: LinkKind | None = None
    note: Note | None = None


class WikiLink(Wire):
    id: str
    source_id: str
    target_id: str
    kind: LinkKind
    note: str = ""
    origin: str = "manual"
    #: Seen from the entry it was listed for: "out" (it links to other) or "in".
    direction: Literal["out", "in"] = "out"
    other_id: str
    other_title: str = ""
    other_namespace: str = ""
    created_by: str = ""
    created_at: datetime
    updated_at: datetime


class GraphNode(Wire):
    id: str
    title: str
    namespace: str
    tags: list[str] = []
    degree: int = 0
    orphan: bool = False
    hop: int | None = None  # distance from the centre of a neighbourhood graph


class GraphEdge(Wire):
    id: str
    source: str
    target: str
    kind: LinkKind


class WikiGraph(Wire):
    namespace: str | None = None
    center: str | None = None
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = False


# ---- governance --------------------------------------------------------------------------


class GovernanceKind(StrEnum):
    link = "link"  # two entries should be linked
    merge = "merge"  # two entries are near-duplicates
    orphan = "orphan"  # an entry nothing links to or from
    stale = "stale"  # an entry not updated for a long time


class GovernanceStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    merged = "merged"
    archived = "archived"


class GovernanceAction(StrEnum):
    accept = "accept"  # link: create it; merge: merge; orphan/stale: keep the entry as it is
    reject = "reject"  # dismiss the proposal (it is not proposed again)
    merge = "merge"  # merge proposals only: fold the other entry into this one
    archive = "archive"  # archive the entry the item is about


class GovernanceItem(Wire):
    id: str
    kind: GovernanceKind
    status: GovernanceStatus
    namespace: str
    entry_id: str
    entry_title: str = ""
    other_id: str | None = None
    other_title: str | None = None
    link_kind: str | None = None
    score: float = 0.0
    reason: str = ""
    proposed_by: str = ""
    run_id: str | None = None
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""
    result_link_id: str | None = None


class GovernanceQueues(Wire):
    #: Pending items per kind (in the namespaces asked about).
    counts: dict[str, int] = {}
    items: list[GovernanceItem]
    next_cursor: str | None = None


class GovernanceActionRequest(Request):
    item_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    action: GovernanceAction
    comment: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] = ""


class GovernanceActionResult(Wire):
    item: GovernanceItem
    action: GovernanceAction
    link: WikiLink | None = None
    entry: KnowledgeEntry | None = None  # the entry as it is now (merged into, archived, kept)


# ---- meditation -------------------------------------------------------------------------------


class MeditationTrigger(Request):
    namespaces: Annotated[list[Namespace], Field(max_length=50)] | None = None
    max_proposals: Annotated[int, Field(ge=1, le=500)] = 100
    stale_days: Annotated[int, Field(ge=1, le=3650)] = 180
    #: Shingle Jaccard similarity at or above which two entries are proposed for merging.
    duplicate_threshold: Annotated[float, Field(ge=0.3, le=1.0)] = 0.7
    #: Salient terms two entries must share to be proposed as linked.
    min_shared_terms: Annotated[int, Field(ge=1, le=8)] = 2


class MeditationRun(Wire):
    id: str
    status: str
    mode: str = "builtin"
    namespaces: list[str] = []
    triggered_by: str = ""
    entries_scanned: int = 0
    links_proposed: int = 0
    merges_proposed: int = 0
    orphans_flagged: int = 0
    stale_flagged: int = 0
    already_queued: int = 0
    message: str = ""
    started_at: datetime
    finished_at: datetime | None = None


# ---- web research ----------------------------------------------------------------------------


class ResearchSource(Request):
    """A source for a research run: a URL with its pasted content, or a file's text."""

    url: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=2000)] = None
    filename: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=255), ONE_LINE] = None
    title: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=200), ONE_LINE] = None
    content: Annotated[str | None, StringConstraints(max_length=MAX_BODY_CHARS)] = None

    @model_validator(mode="after")
    def _named(self) -> ResearchSource:
        if not (self.url or self.filename):
            raise ValueError("a source needs a url or a filename")
        return self


class ResearchRunCreate(Request):
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), ONE_LINE]
    namespace: Namespace
    sources: Annotated[list[ResearchSource], Field(max_length=50)] = Field(default_factory=list[ResearchSource])
    tags: Tags = Field(default_factory=list)


class ResearchCandidate(Wire):
    id: str
    run_id: str
    url: str | None = None
    filename: str | None = None
    title: str
    excerpt: str = ""
    content_chars: int = 0
    status: str  # pending | approved | rejected | unfetched
    recommendation: str  # approve | reject (the reviewing agent's advice)
    score: float = 0.0  # relevance to the topic, 0..1
    reasons: list[str] = []
    duplicate_of: str | None = None
    entry_ids: list[str] = []
    decided_by: str | None = None
    decided_at: datetime | None = None


class ResearchRun(Wire):
    id: str
    topic: str
    namespace: str
    tags: list[str] = []
    status: str  # review | done
    web_fetch: bool = False
    fetch_note: str = ""
    created_by: str = ""
    created_at: datetime
    updated_at: datetime
    candidate_count: int = 0
    pending_count: int = 0
    approved_count: int = 0
    rejected_count: int = 0
    candidates: list[ResearchCandidate] = []  # in the detail view only


class ResearchBatch(Request):
    approve: Annotated[list[Id], Field(max_length=200)] = Field(default_factory=list)
    reject: Annotated[list[Id], Field(max_length=200)] = Field(default_factory=list)
    comment: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] = ""


class ResearchBatchResult(Wire):
    run: ResearchRun
    approved: list[str] = []
    rejected: list[str] = []
    entry_ids: list[str] = []
    #: Candidate ids that were not decided, with why (unknown, already decided, no content).
    skipped: dict[str, str] = {}
