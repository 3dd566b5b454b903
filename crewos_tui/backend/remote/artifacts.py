"""Generated artifacts over HTTP (by reference token)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas.artifacts import (
    ArtifactContent,
    ArtifactInfo,
    ArtifactRevisionCreate,
    ArtifactSource,
    LayoutCleanupRequest,
    LayoutCleanupResult,
)
from ..schemas.common import DEFAULT_LIMIT, Page
from .http import API, as_model, as_page, paging, seg
from .knowledge import content_type_of, download_name

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteArtifacts:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _p(token: str, what: str) -> str:
        return f"{API}/attachments/{seg(token)}/{what}"

    async def list(self, project_id: str | None = None, kind: str | None = None, limit: int = DEFAULT_LIMIT,
                   cursor: str | None = None) -> Page[ArtifactInfo]:
        payload = await self._b.request("GET", f"{API}/attachments",
                                        params=paging(limit, cursor, project_id=project_id, kind=kind))
        return as_page(ArtifactInfo, payload)

    async def download(self, reference_token: str, revision: int | None = None) -> ArtifactContent:
        params = {"revision": revision} if revision is not None else None
        response = await self._b.request("GET", self._p(reference_token, "download"), params=params, raw=True)
        try:
            number = int(response.headers.get("x-artifact-revision", "0"))
        except ValueError:
            number = 0
        return ArtifactContent(reference_token=reference_token, filename=download_name(response, "artifact"),
                               content_type=content_type_of(response), revision=number, size=len(response.content),
                               content=response.content)

    async def source(self, reference_token: str, revision: int | None = None) -> ArtifactSource:
        params = {"revision": revision} if revision is not None else None
        return as_model(ArtifactSource, await self._b.request("GET", self._p(reference_token, "source"), params=params))

    async def save_revision(self, reference_token: str, data: ArtifactRevisionCreate) -> ArtifactSource:
        payload = await self._b.create(self._p(reference_token, "revisions"),
                                       json=data.model_dump(mode="json", exclude_none=True))
        return as_model(ArtifactSource, payload)

    async def layout_cleanup(self, reference_token: str, data: LayoutCleanupRequest | None = None
                             ) -> LayoutCleanupResult:
        payload = await self._b.request("POST", self._p(reference_token, "layout-cleanup"),
                                        json=data.model_dump(mode="json") if data is not None else {})
        return as_model(LayoutCleanupResult, payload)
