"""The knowledge base and wiki graph over HTTP."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

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
from .http import API, as_model, as_page, gone, paging, seg

if TYPE_CHECKING:
    import httpx

    from .http import HttpClient

BASE = f"{API}/knowledge"


def download_name(response: httpx.Response, fallback: str) -> str:
    """The file name a download's Content-Disposition gives (RFC 5987 form first)."""
    header = response.headers.get("content-disposition", "")
    star = re.search(r"filename\*=UTF-8''([^;]+)", header, re.IGNORECASE)
    if star:
        return unquote(star.group(1).strip())
    plain = re.search(r'filename="?([^";]+)"?', header, re.IGNORECASE)
    return plain.group(1).strip() if plain else fallback


def content_type_of(response: httpx.Response) -> str:
    return response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()


def _body(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_unset=True)


class RemoteKnowledge:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _e(entry_id: str, *rest: str) -> str:
        return "/".join([BASE, seg(entry_id), *rest])

    async def namespaces(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[KnowledgeNamespace]:
        return as_page(KnowledgeNamespace, await self._b.request("GET", f"{BASE}/namespaces",
                                                               params=paging(limit, cursor)))

    async def search(self, data: KnowledgeSearch) -> KnowledgeSearchResults:
        return as_model(KnowledgeSearchResults, await self._b.request("POST", f"{BASE}/search", json=_body(data)))

    async def retrieve(self, data: KnowledgeRetrieve) -> RetrievalResult:
        return as_model(RetrievalResult, await self._b.request("POST", f"{BASE}/retrieve", json=_body(data)))

    async def list(
        self, namespace: str | None = None, tag: str | None = None, q: str | None = None, status: str | None = None,
        visibility: str | None = None, file_id: str | None = None, limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[KnowledgeEntryBrief]:
        params = paging(limit, cursor, namespace=namespace, tag=tag, q=q, status=status, visibility=visibility,
                         file_id=file_id)
        return as_page(KnowledgeEntryBrief, await self._b.request("GET", BASE, params=params))

    async def create(self, data: KnowledgeEntryCreate) -> KnowledgeEntry:
        return as_model(KnowledgeEntry, await self._b.create(BASE, json=data.model_dump(mode="json")))

    async def get(self, entry_id: str, version: int | None = None) -> KnowledgeEntry:
        params = {"version": version} if version is not None else None
        return as_model(KnowledgeEntry, await self._b.request("GET", self._e(entry_id), params=params))

    async def update(self, entry_id: str, data: KnowledgeEntryUpdate) -> KnowledgeEntry:
        return as_model(KnowledgeEntry, await self._b.request("PUT", self._e(entry_id), json=_body(data)))

    async def delete(self, entry_id: str) -> Deleted:
        return as_model(Deleted, await self._b.request("DELETE", self._e(entry_id), gone=gone(entry_id)))

    async def ingest(self, data: KnowledgeIngest) -> IngestResult:
        payload = data.model_dump(mode="json", exclude_none=True)
        return as_model(IngestResult, await self._b.create(f"{BASE}/ingest", json=payload))

    async def list_files(
        self, namespace: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[KnowledgeFile]:
        return as_page(KnowledgeFile, await self._b.request("GET", f"{BASE}/files",
                                                          params=paging(limit, cursor, namespace=namespace)))

    async def delete_file(
        self, file_id: str | None = None, namespace: str | None = None, filename: str | None = None
    ) -> KnowledgeFileDeleted:
        params = {"file_id": file_id, "namespace": namespace, "filename": filename}
        return as_model(KnowledgeFileDeleted, await self._b.request("DELETE", f"{BASE}/files", params=params))

    async def set_file_visibility(self, data: KnowledgeFileVisibility) -> KnowledgeFile:
        payload = data.model_dump(mode="json", exclude_none=True)
        return as_model(KnowledgeFile, await self._b.request("PATCH", f"{BASE}/files/visibility", json=payload))

    async def download_file(self, entry_id: str) -> KnowledgeFileContent:
        response = await self._b.request("GET", self._e(entry_id, "file"), raw=True)
        return KnowledgeFileContent(filename=download_name(response, f"{entry_id}.txt"),
                                    content_type=content_type_of(response), size=len(response.content),
                                    content=response.content)

    async def wiki_graph(
        self, namespace: str | None = None, entry_id: str | None = None, depth: int = 1, max_nodes: int = 200
    ) -> WikiGraph:
        params = {"namespace": namespace, "entry_id": entry_id, "depth": depth, "max_nodes": max_nodes}
        return as_model(WikiGraph, await self._b.request("GET", f"{BASE}/wiki-graph", params=params))

    async def governance(
        self, namespace: str | None = None, kind: str | None = None, status: str = "pending",
        limit: int = DEFAULT_LIMIT, cursor: str | None = None,
    ) -> GovernanceQueues:
        params = paging(limit, cursor, namespace=namespace, kind=kind, status=status)
        return as_model(GovernanceQueues, await self._b.request("GET", f"{BASE}/wiki-governance", params=params))

    async def apply_governance(self, data: GovernanceActionRequest) -> GovernanceActionResult:
        payload = await self._b.request("POST", f"{BASE}/wiki-governance/actions", json=data.model_dump(mode="json"))
        return as_model(GovernanceActionResult, payload)

    async def list_links(
        self, entry_id: str, direction: str = "both", kind: str | None = None, limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[WikiLink]:
        params = paging(limit, cursor, direction=direction, kind=kind)
        return as_page(WikiLink, await self._b.request("GET", self._e(entry_id, "links"), params=params))

    async def create_link(self, entry_id: str, data: WikiLinkCreate) -> WikiLink:
        payload = await self._b.create(self._e(entry_id, "links"), json=data.model_dump(mode="json"))
        return as_model(WikiLink, payload)

    async def update_link(self, entry_id: str, link_id: str, data: WikiLinkUpdate) -> WikiLink:
        payload = await self._b.request("PATCH", self._e(entry_id, "links", seg(link_id)),
                                        json=data.model_dump(mode="json", exclude_none=True))
        return as_model(WikiLink, payload)

    async def delete_link(self, entry_id: str, link_id: str) -> Deleted:
        payload = await self._b.request("DELETE", self._e(entry_id, "links", seg(link_id)), gone=gone(link_id))
        return as_model(Deleted, payload)

    async def trigger_meditation(self, data: MeditationTrigger | None = None) -> MeditationRun:
        payload = await self._b.create(f"{BASE}/wiki-meditation/trigger",
                                       json=_body(data) if data is not None else {})
        return as_model(MeditationRun, payload)

    async def meditation_runs(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[MeditationRun]:
        return as_page(MeditationRun, await self._b.request("GET", f"{BASE}/wiki-meditation/runs",
                                                          params=paging(limit, cursor)))

    async def start_research(self, data: ResearchRunCreate) -> ResearchRun:
        payload = await self._b.create(f"{BASE}/web-research/runs",
                                       json=data.model_dump(mode="json", exclude_none=True))
        return as_model(ResearchRun, payload)

    async def research_runs(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ResearchRun]:
        return as_page(ResearchRun, await self._b.request("GET", f"{BASE}/web-research/runs",
                                                        params=paging(limit, cursor)))

    async def research_run(self, run_id: str) -> ResearchRun:
        return as_model(ResearchRun, await self._b.request("GET", f"{BASE}/web-research/runs/{seg(run_id)}"))

    async def decide_research(self, run_id: str, data: ResearchBatch) -> ResearchBatchResult:
        payload = await self._b.request("POST", f"{BASE}/web-research/runs/{seg(run_id)}/batch",
                                        json=data.model_dump(mode="json"))
        return as_model(ResearchBatchResult, payload)
