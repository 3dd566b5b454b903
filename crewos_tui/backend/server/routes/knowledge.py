"""Knowledge base and wiki graph: /api/v1/knowledge/...

The fixed paths (namespaces, search, files, wiki-*, web-research) are declared before
``/{entry_id}`` so an entry id can never shadow them."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from ...schemas import MAX_SQL_INT, Deleted, Page
from ...schemas.knowledge import (
    GovernanceActionRequest,
    GovernanceActionResult,
    GovernanceKind,
    GovernanceQueues,
    GovernanceStatus,
    IngestResult,
    KnowledgeEntry,
    KnowledgeEntryBrief,
    KnowledgeEntryCreate,
    KnowledgeEntryUpdate,
    KnowledgeFile,
    KnowledgeFileDeleted,
    KnowledgeFileVisibility,
    KnowledgeIngest,
    KnowledgeNamespace,
    KnowledgeRetrieve,
    KnowledgeSearch,
    KnowledgeSearchResults,
    LinkKind,
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
from ..auth import AdminCaller, Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery, file_download

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/knowledge", tags=["knowledge"], responses=AUTHED_ERRORS)
IdQuery = Annotated[str | None, Query(max_length=64)]
NamespaceQuery = Annotated[str | None, Query(max_length=120, description="One namespace.")]


def file_response(content: bytes, content_type: str, filename: str) -> Response:
    """Bytes as a download: never rendered inline, never sniffed, sandboxed if opened."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    return Response(content, media_type=content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


# ---- namespaces, search, retrieval ---------------------------------------------------------------


@router.get("/namespaces", response_model=Page[KnowledgeNamespace], summary="List namespaces visible to the caller")
async def list_namespaces(services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT,
                          cursor: CursorQuery = None) -> Page[KnowledgeNamespace]:
    return await services.knowledge.namespaces(principal, limit=limit, cursor=cursor)


@router.post("/search", response_model=KnowledgeSearchResults,
             summary="Search accessible knowledge entries")
async def search(body: KnowledgeSearch, services: ServicesDep, principal: Caller) -> KnowledgeSearchResults:
    return await services.knowledge.search(principal, body)


@router.post("/retrieve", response_model=RetrievalResult,
             summary="Retrieve graph-aware knowledge context")
async def retrieve(body: KnowledgeRetrieve, services: ServicesDep, principal: Caller) -> RetrievalResult:
    return await services.knowledge.retrieve(principal, body)


@router.get("", response_model=Page[KnowledgeEntryBrief], summary="List knowledge entries")
async def list_entries(
    services: ServicesDep, principal: Caller, namespace: NamespaceQuery = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Filter by title.")] = None,
    status: Literal["active", "archived"] | None = None, visibility: Literal["visible", "hidden"] | None = None,
    file_id: IdQuery = None, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[KnowledgeEntryBrief]:
    return await services.knowledge.list(principal, namespace=namespace, tag=tag, q=q, status=status,
                                         visibility=visibility, file_id=file_id, limit=limit, cursor=cursor)


@router.post("", status_code=201, response_model=KnowledgeEntry, summary="Create a knowledge entry")
async def create_entry(body: KnowledgeEntryCreate, services: ServicesDep, principal: Caller) -> KnowledgeEntry:
    return await services.knowledge.create(principal, body)


# ---- ingest and files ------------------------------------------------------------------------------


@router.post("/ingest", status_code=201, response_model=IngestResult,
             summary="Ingest a document into the knowledge base")
async def ingest(body: KnowledgeIngest, services: ServicesDep, principal: Caller) -> IngestResult:
    return await services.knowledge.ingest(principal, body)


@router.get("/files", response_model=Page[KnowledgeFile], summary="List knowledge file groups")
async def list_files(services: ServicesDep, principal: Caller, namespace: NamespaceQuery = None,
                     limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None) -> Page[KnowledgeFile]:
    return await services.knowledge.list_files(principal, namespace=namespace, limit=limit, cursor=cursor)


@router.delete("/files", response_model=KnowledgeFileDeleted,
               summary="Delete a knowledge file group (by file_id, or namespace and filename)")
async def delete_file(services: ServicesDep, principal: Caller, file_id: IdQuery = None,
                      namespace: NamespaceQuery = None,
                      filename: Annotated[str | None, Query(max_length=255)] = None) -> KnowledgeFileDeleted:
    return await services.knowledge.delete_file(principal, file_id=file_id, namespace=namespace, filename=filename)


@router.patch("/files/visibility", response_model=KnowledgeFile,
              summary="Toggle knowledge file visibility")
async def set_file_visibility(body: KnowledgeFileVisibility, services: ServicesDep, principal: Caller
                              ) -> KnowledgeFile:
    return await services.knowledge.set_file_visibility(principal, body)


# ---- the graph and governance ----------------------------------------------------------------------


@router.get("/wiki-graph", response_model=WikiGraph, summary="Read the namespace wiki graph")
async def wiki_graph(
    services: ServicesDep, principal: Caller, namespace: NamespaceQuery = None, entry_id: IdQuery = None,
    depth: Annotated[int, Query(ge=1, le=3)] = 1, max_nodes: Annotated[int, Query(ge=1, le=500)] = 200,
) -> WikiGraph:
    return await services.knowledge.wiki_graph(principal, namespace=namespace, entry_id=entry_id, depth=depth,
                                               max_nodes=max_nodes)


@router.get("/wiki-governance", response_model=GovernanceQueues,
            summary="Read wiki governance queues")
async def governance(
    services: ServicesDep, principal: Caller, namespace: NamespaceQuery = None, kind: GovernanceKind | None = None,
    status: GovernanceStatus = GovernanceStatus.pending, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> GovernanceQueues:
    return await services.knowledge.governance(principal, namespace=namespace, kind=kind.value if kind else None,
                                               status=status.value, limit=limit, cursor=cursor)


@router.post("/wiki-governance/actions", response_model=GovernanceActionResult,
             summary="Apply a wiki governance action")
async def apply_governance(body: GovernanceActionRequest, services: ServicesDep, principal: Caller
                           ) -> GovernanceActionResult:
    return await services.knowledge.apply_governance(principal, body)


@router.post("/wiki-meditation/trigger", status_code=201, response_model=MeditationRun,
             summary="Trigger wiki graph meditation (built-in, deterministic)")
async def trigger_meditation(services: ServicesDep, principal: AdminCaller,
                             body: Annotated[MeditationTrigger | None, Body()] = None) -> MeditationRun:
    return await services.knowledge.trigger_meditation(principal, body)


@router.get("/wiki-meditation/runs", response_model=Page[MeditationRun],
            summary="List recent wiki graph meditation runs")
async def meditation_runs(services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT,
                          cursor: CursorQuery = None) -> Page[MeditationRun]:
    return await services.knowledge.meditation_runs(principal, limit=limit, cursor=cursor)


# ---- web research ----------------------------------------------------------------------------------


@router.post("/web-research/runs", status_code=201, response_model=ResearchRun,
             summary="Run agent-reviewed research on supplied sources (no web fetching)")
async def start_research(body: ResearchRunCreate, services: ServicesDep, principal: AdminCaller) -> ResearchRun:
    return await services.knowledge.start_research(principal, body)


@router.get("/web-research/runs", response_model=Page[ResearchRun], summary="List recent KB web research runs")
async def research_runs(services: ServicesDep, principal: AdminCaller, limit: LimitQuery = DEFAULT_LIMIT,
                        cursor: CursorQuery = None) -> Page[ResearchRun]:
    return await services.knowledge.research_runs(principal, limit=limit, cursor=cursor)


@router.get("/web-research/runs/{run_id}", response_model=ResearchRun,
            summary="Inspect one KB web research run")
async def research_run(run_id: str, services: ServicesDep, principal: AdminCaller) -> ResearchRun:
    return await services.knowledge.research_run(principal, run_id)


@router.post("/web-research/runs/{run_id}/batch", response_model=ResearchBatchResult,
             summary="Batch approve or reject web research candidates")
async def decide_research(run_id: str, body: ResearchBatch, services: ServicesDep, principal: AdminCaller
                          ) -> ResearchBatchResult:
    return await services.knowledge.decide_research(principal, run_id, body)


# ---- one entry (after every fixed path) ----------------------------------------------------------------


@router.get("/{entry_id}", response_model=KnowledgeEntry, summary="Fetch a knowledge entry")
async def get_entry(entry_id: str, services: ServicesDep, principal: Caller,
                    version: Annotated[int | None, Query(ge=1, le=MAX_SQL_INT)] = None) -> KnowledgeEntry:
    return await services.knowledge.get(principal, entry_id, version=version)


@router.put("/{entry_id}", response_model=KnowledgeEntry, summary="Update a knowledge entry")
async def update_entry(entry_id: str, body: KnowledgeEntryUpdate, services: ServicesDep, principal: Caller
                       ) -> KnowledgeEntry:
    return await services.knowledge.update(principal, entry_id, body)


@router.delete("/{entry_id}", response_model=Deleted, summary="Delete a knowledge entry")
async def delete_entry(entry_id: str, services: ServicesDep, principal: Caller) -> Deleted:
    return await services.knowledge.delete(principal, entry_id)


@router.get("/{entry_id}/file", response_class=Response,
            responses=file_download("The source file's bytes"),
            summary="Download an entry source file")
async def download_file(entry_id: str, services: ServicesDep, principal: Caller) -> Response:
    f = await services.knowledge.download_file(principal, entry_id)
    return file_response(f.content, f.content_type, f.filename)


@router.get("/{entry_id}/links", response_model=Page[WikiLink], summary="List wiki links for an entry")
async def list_links(
    entry_id: str, services: ServicesDep, principal: Caller, direction: Literal["both", "out", "in"] = "both",
    kind: LinkKind | None = None, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[WikiLink]:
    return await services.knowledge.list_links(principal, entry_id, direction=direction,
                                               kind=kind.value if kind else None, limit=limit, cursor=cursor)


@router.post("/{entry_id}/links", status_code=201, response_model=WikiLink,
             summary="Create a wiki link from an entry")
async def create_link(entry_id: str, body: WikiLinkCreate, services: ServicesDep, principal: Caller) -> WikiLink:
    return await services.knowledge.create_link(principal, entry_id, body)


@router.patch("/{entry_id}/links/{link_id}", response_model=WikiLink, summary="Update a wiki link")
async def update_link(entry_id: str, link_id: str, body: WikiLinkUpdate, services: ServicesDep, principal: Caller
                      ) -> WikiLink:
    return await services.knowledge.update_link(principal, entry_id, link_id, body)


@router.delete("/{entry_id}/links/{link_id}", response_model=Deleted, summary="Delete a wiki link")
async def delete_link(entry_id: str, link_id: str, services: ServicesDep, principal: Caller) -> Deleted:
    return await services.knowledge.delete_link(principal, entry_id, link_id)
