"""RemoteBackend: the Backend interface over HTTP (httpx) against a CrewOS server.

One ``httpx.AsyncClient`` per backend. Idempotent requests (GET/HEAD/PUT/DELETE)
are retried with exponential backoff on connection errors, 429 and 502/503/504,
honouring a (capped) ``Retry-After``; other requests are sent once, since a retry
could do the change twice. Status codes become the same ``errors`` the local
backend raises. Answers may carry fields we do not know (ignored) and lists may be
bare JSON arrays or ``{"items": ...}`` pages.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from .. import __version__
from .errors import CrewOSError, Unavailable, error_for_status
from .schemas import (
    AccessRequest,
    AccessRequestCreate,
    AccessRequestDecision,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyInfo,
    Deleted,
    Document,
    Folder,
    FolderUpdate,
    Liveness,
    LogoutResult,
    Me,
    Member,
    Page,
    Project,
    ProjectCreate,
    ProjectUpdate,
    Readiness,
    ScaffoldItem,
    SSOProvider,
    TeamUser,
    TokenPair,
)
from .schemas.common import DEFAULT_LIMIT
from .schemas.projects import ProjectRole

M = TypeVar("M", bound=BaseModel)
Credential = Literal["public", "any", "jwt"]

API = "/api/v1"
API_KEY_HEADER = "X-CrewOS-API-Key"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_NO_BODY = object()


def _seg(value: str) -> str:
    """One path segment: an id can never reach another path."""
    return quote(str(value), safe="")


def _readable(detail: Any) -> str:
    """A ``detail`` (string, FastAPI's list of issues, or an object) as one sentence."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(_readable(item) for item in detail) or "request refused"
    if isinstance(detail, dict):
        if "msg" in detail:
            loc = ".".join(str(p) for p in detail.get("loc") or ())
            return f"{loc}: {detail['msg']}" if loc else str(detail["msg"])
        for key in ("detail", "message", "error"):
            if key in detail:
                return _readable(detail[key])
        return json.dumps(detail, default=str)
    return str(detail)


def _detail_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else f"HTTP {response.status_code} {response.reason_phrase}".strip()
    if isinstance(body, dict) and "detail" in body:
        return _readable(body["detail"])
    return _readable(body)


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _model(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise Unavailable(f"the server's answer is not a {model.__name__}: {exc.errors()[0]['msg']}") from None


def _page(model: type[M], payload: Any) -> Page[M]:
    """A page from ``{"items": [...], "next_cursor": ...}`` or a bare list."""
    if isinstance(payload, list):
        payload = {"items": payload, "next_cursor": None}
    return _model(Page[model], payload)  # type: ignore[valid-type]


class RemoteBackend:
    mode = "remote"

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_tries: int = 3,
        backoff: float = 0.25,
        max_retry_after: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.access_token = access_token
        self.refresh_token: str | None = None  # set by login/refresh through this client
        self.timeout = timeout
        self.max_tries = max(1, max_tries)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"User-Agent": f"crewos-tui/{__version__}", "Accept": "application/json"},
        )
        self.auth = RemoteAuth(self)
        self.health = RemoteHealth(self)
        self.projects = RemoteProjects(self)

    # ---- transport -----------------------------------------------------------------

    def _credential_headers(self, credential: Credential) -> dict[str, str]:
        # Send exactly one credential: a server given both would pick the API key,
        # and JWT-only routes (key and session management) refuse API keys.
        bearer = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else None
        key = {API_KEY_HEADER: self.api_key} if self.api_key else None
        if credential == "public":
            return {}
        if credential == "jwt":
            return bearer or key or {}
        return key or bearer or {}

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = _retry_after(response)
            if after is not None:
                return min(after, self.max_retry_after)
        return self.backoff * 2 ** (attempt - 1)

    async def request(
        self,
        method: str,
        path: str,
        *,
        credential: Credential = "any",
        params: dict[str, Any] | None = None,
        json: Any = _NO_BODY,
        files: Any = None,
        data: dict[str, str] | None = None,
    ) -> Any:
        """Send one API request (retrying when safe); the decoded JSON answer or an error."""
        kwargs: dict[str, Any] = {"headers": self._credential_headers(credential)}
        if params:
            kwargs["params"] = {k: str(v) for k, v in params.items() if v is not None}
        if json is not _NO_BODY:
            kwargs["json"] = json
        if files is not None:
            kwargs["files"] = files
        if data:
            kwargs["data"] = data
        retryable = method in IDEMPOTENT
        for attempt in range(1, self.max_tries + 1):
            response: httpx.Response | None = None
            try:
                response = await self._client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                error: CrewOSError = Unavailable(f"cannot reach {self.base_url}: no answer within {self.timeout:g} s")
            except httpx.TransportError as exc:
                error = Unavailable(f"cannot reach {self.base_url}: {str(exc) or exc.__class__.__name__}")
            else:
                if response.status_code < 400:
                    return self._decode(response)
                error = error_for_status(response.status_code, _detail_of(response), _retry_after(response))
                if response.status_code not in RETRY_STATUSES:
                    raise error
            if not retryable or attempt == self.max_tries:
                raise error
            await asyncio.sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            path = response.request.url.path
            raise Unavailable(f"the server answered {path} with something other than JSON") from None

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> RemoteBackend:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


def _paging(limit: int, cursor: str | None, **extra: Any) -> dict[str, Any]:
    return {"limit": limit, "cursor": cursor, **extra}


class RemoteAuth:
    def __init__(self, backend: RemoteBackend) -> None:
        self._b = backend

    def _keep(self, pair: TokenPair) -> TokenPair:
        # Later JWT-only calls (API keys, logout) use the session just opened.
        self._b.access_token, self._b.refresh_token = pair.access_token, pair.refresh_token
        return pair

    async def login(self, username: str, password: str) -> TokenPair:
        body = {"username": username, "password": password}
        return self._keep(_model(TokenPair, await self._b.request("POST", f"{API}/auth/login", credential="public",
                                                                  json=body)))

    async def refresh(self, refresh_token: str) -> TokenPair:
        payload = await self._b.request("POST", f"{API}/auth/refresh", credential="jwt",
                                        json={"refresh_token": refresh_token})
        return self._keep(_model(TokenPair, payload))

    async def logout(self, refresh_token: str | None = None) -> LogoutResult:
        body = {"refresh_token": refresh_token} if refresh_token else _NO_BODY
        result = _model(LogoutResult, await self._b.request("POST", f"{API}/auth/logout", credential="jwt", json=body))
        if refresh_token is None or refresh_token == self._b.refresh_token:
            self._b.access_token = self._b.refresh_token = None  # this session is over
        return result

    async def logout_all(self) -> LogoutResult:
        result = _model(LogoutResult, await self._b.request("POST", f"{API}/auth/logout-all", credential="jwt"))
        self._b.access_token = self._b.refresh_token = None
        return result

    async def me(self) -> Me:
        return _model(Me, await self._b.request("GET", f"{API}/auth/me"))

    async def list_api_keys(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ApiKeyInfo]:
        payload = await self._b.request("GET", f"{API}/auth/api-keys", credential="jwt", params=_paging(limit, cursor))
        return _page(ApiKeyInfo, payload)

    async def create_api_key(self, data: ApiKeyCreate) -> ApiKeyCreated:
        payload = await self._b.request("POST", f"{API}/auth/api-keys", credential="jwt",
                                        json=data.model_dump(mode="json", exclude_none=True))
        return _model(ApiKeyCreated, payload)

    async def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        return _model(ApiKeyInfo, await self._b.request("DELETE", f"{API}/auth/api-keys/{_seg(key_id)}",
                                                        credential="jwt"))

    async def sso_providers(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[SSOProvider]:
        payload = await self._b.request("GET", f"{API}/auth/sso/providers", credential="public",
                                        params=_paging(limit, cursor))
        return _page(SSOProvider, payload)


class RemoteHealth:
    def __init__(self, backend: RemoteBackend) -> None:
        self._b = backend

    async def live(self) -> Liveness:
        return _model(Liveness, await self._b.request("GET", "/health/live", credential="public"))

    async def ready(self) -> Readiness:
        return _model(Readiness, await self._b.request("GET", "/health/ready", credential="public"))


class RemoteProjects:
    def __init__(self, backend: RemoteBackend) -> None:
        self._b = backend

    @staticmethod
    def _p(project_id: str, *rest: str) -> str:
        return "/".join([f"{API}/projects", _seg(project_id), *rest])

    async def create(self, data: ProjectCreate) -> Project:
        payload = await self._b.request("POST", f"{API}/projects", json=data.model_dump(mode="json"))
        return _model(Project, payload)

    async def list(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None, q: str | None = None
    ) -> Page[Project]:
        payload = await self._b.request("GET", f"{API}/projects", params=_paging(limit, cursor, status=status, q=q))
        return _page(Project, payload)

    async def get(self, project_id: str) -> Project:
        return _model(Project, await self._b.request("GET", self._p(project_id)))

    async def update(self, project_id: str, data: ProjectUpdate) -> Project:
        payload = await self._b.request("PATCH", self._p(project_id), json=data.model_dump(mode="json",
                                                                                           exclude_unset=True))
        return _model(Project, payload)

    async def delete(self, project_id: str) -> Deleted:
        return _model(Deleted, await self._b.request("DELETE", self._p(project_id)))

    async def archive(self, project_id: str) -> Project:
        return _model(Project, await self._b.request("POST", self._p(project_id, "archive")))

    async def list_members(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Member]:
        payload = await self._b.request("GET", self._p(project_id, "members"), params=_paging(limit, cursor))
        return _page(Member, payload)

    async def upsert_member(self, project_id: str, user_id: str, role: ProjectRole) -> Member:
        payload = await self._b.request("PATCH", self._p(project_id, "members", _seg(user_id)),
                                        json={"role": str(role)})
        return _model(Member, payload)

    async def remove_member(self, project_id: str, user_id: str) -> Deleted:
        return _model(Deleted, await self._b.request("DELETE", self._p(project_id, "members", _seg(user_id))))

    async def team_users(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[TeamUser]:
        payload = await self._b.request("GET", self._p(project_id, "team-users"), params=_paging(limit, cursor))
        return _page(TeamUser, payload)

    async def list_access_requests(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[AccessRequest]:
        payload = await self._b.request("GET", self._p(project_id, "access-requests"),
                                        params=_paging(limit, cursor, status=status))
        return _page(AccessRequest, payload)

    async def create_access_request(self, project_id: str, data: AccessRequestCreate) -> AccessRequest:
        payload = await self._b.request("POST", self._p(project_id, "access-requests"),
                                        json=data.model_dump(mode="json"))
        return _model(AccessRequest, payload)

    async def decide_access_request(
        self, project_id: str, access_request_id: str, data: AccessRequestDecision
    ) -> AccessRequest:
        payload = await self._b.request("PATCH", self._p(project_id, "access-requests", _seg(access_request_id)),
                                        json=data.model_dump(mode="json", exclude_none=True))
        return _model(AccessRequest, payload)

    async def list_scaffold_items(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ScaffoldItem]:
        payload = await self._b.request("GET", self._p(project_id, "scaffold-items"), params=_paging(limit, cursor))
        return _page(ScaffoldItem, payload)

    async def list_folders(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Folder]:
        payload = await self._b.request("GET", self._p(project_id, "folders"), params=_paging(limit, cursor))
        return _page(Folder, payload)

    async def list_folder_updates(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[FolderUpdate]:
        payload = await self._b.request("GET", self._p(project_id, "folder-updates"),
                                        params=_paging(limit, cursor, status=status))
        return _page(FolderUpdate, payload)

    async def approve_folder_update(self, project_id: str, folder_update_id: str, comment: str = "") -> FolderUpdate:
        path = self._p(project_id, "folder-updates", _seg(folder_update_id), "approve")
        payload = await self._b.request("POST", path, json={"comment": comment})
        return _model(FolderUpdate, payload)

    async def reject_folder_update(self, project_id: str, folder_update_id: str, comment: str = "") -> FolderUpdate:
        path = self._p(project_id, "folder-updates", _seg(folder_update_id), "reject")
        payload = await self._b.request("POST", path, json={"comment": comment})
        return _model(FolderUpdate, payload)

    async def list_documents(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Document]:
        payload = await self._b.request("GET", self._p(project_id, "documents"), params=_paging(limit, cursor))
        return _page(Document, payload)

    async def upload_document(
        self,
        project_id: str,
        filename: str,
        content: bytes,
        content_type: str | None = None,
        folder_path: str | None = None,
    ) -> Document:
        # Without a content type httpx guesses one from the file name.
        part = (filename, content, content_type) if content_type else (filename, content)
        payload = await self._b.request("POST", self._p(project_id, "documents", "upload"), files={"file": part},
                                        data={"folder_path": folder_path} if folder_path else None)
        return _model(Document, payload)

    async def reingest_document(self, project_id: str, document_id: str) -> Document:
        payload = await self._b.request("POST", self._p(project_id, "documents", "reingest"),
                                        json={"document_id": document_id})
        return _model(Document, payload)
