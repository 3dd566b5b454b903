"""The HTTP transport of the remote backend (httpx) against a CrewOS server.

One ``httpx.AsyncClient`` per backend. Idempotent requests (GET/HEAD/PUT/DELETE)
are retried with exponential backoff on connection errors, 429 and 502/503/504,
honouring a (capped) ``Retry-After``; other requests are sent once, since a retry
could do the change twice. A create (``idempotent=True``) carries an
``Idempotency-Key`` (``backend/idempotency.py``: a fresh one per call, or the one the
caller set) and is retried like the others with that same key, once the server has
said it honours keys (``X-CrewOS-Idempotency`` on any answer); before that only when
the request never left (no connection). A retried DELETE whose earlier attempt may have
reached the server (its answer was lost) and which now finds the thing gone (a CrewOS
404) has succeeded: it answers what the caller passed as ``gone``. Status codes become
the same ``errors`` the local backend raises; an error whose body is not a CrewOS
answer (a proxy's HTML page) says so, with the server's URL and status
(``HttpClient.error_for``). Answers may carry fields we do not know (ignored) and
lists may be bare JSON arrays or ``{"items": ...}`` pages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Self, TypeVar, cast
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ... import __version__
from ..errors import CrewOSError, Unavailable, error_for_status
from ..idempotency import HEADER as IDEMPOTENCY_HEADER
from ..idempotency import REPLAYED_HEADER, SUPPORT_HEADER, check_key, current_key, new_key
from ..schemas import Page

M = TypeVar("M", bound=BaseModel)
Credential = Literal["public", "any", "jwt"]

API = "/api/v1"
API_KEY_HEADER = "X-CrewOS-API-Key"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
NO_BODY = object()
#: Seconds a stream may be silent before the client gives up (``CREWOS_TUI_STREAM_SILENCE``
#: overrides); a CrewOS server sends a keep-alive comment every few seconds while a reply is slow.
STREAM_SILENCE = 30.0


def stream_silence_default() -> float:
    try:
        seconds = float(os.environ.get("CREWOS_TUI_STREAM_SILENCE", STREAM_SILENCE))
    except ValueError:
        return STREAM_SILENCE
    return seconds if seconds > 0 else STREAM_SILENCE


def seg(value: str) -> str:
    """One path segment: an id can never reach another path."""
    return quote(str(value), safe="")


def _readable(detail: Any) -> str:
    """A ``detail`` (string, FastAPI's list of issues, or an object) as one sentence."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        items = cast(list[Any], detail)
        return "; ".join(_readable(item) for item in items) or "request refused"
    if isinstance(detail, dict):
        fields = cast(dict[str, Any], detail)
        if "msg" in fields:
            loc = ".".join(str(p) for p in fields.get("loc") or ())
            return f"{loc}: {fields['msg']}" if loc else str(fields["msg"])
        for key in ("detail", "message", "error"):
            if key in fields:
                return _readable(fields[key])
        return json.dumps(fields, default=str)
    return str(detail)


def detail_of(response: httpx.Response) -> str | None:
    """The message of a CrewOS error answer (JSON); None when the body is not JSON: an
    HTML page or text from a proxy, a load balancer or another program on that port."""
    try:
        body = response.json()
    except ValueError:  # also an empty body, and bytes that are not UTF-8
        return None
    if isinstance(body, dict) and "detail" in body:
        return _readable(body["detail"])
    return _readable(body)


def gone(id: str) -> dict[str, Any]:
    """The answer of a delete that found ``id`` already deleted (see ``request(gone=...)``)."""
    return {"id": id, "deleted": True}


def retry_after(response: httpx.Response) -> float | None:
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


def as_model(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise Unavailable(f"the server's answer is not a {model.__name__}: {exc.errors()[0]['msg']}") from None


def as_page(model: type[M], payload: Any) -> Page[M]:
    """A page from ``{"items": [...], "next_cursor": ...}`` or a bare list."""
    if isinstance(payload, list):
        payload = {"items": cast(list[Any], payload), "next_cursor": None}
    return as_model(Page[model], payload)  # type: ignore[valid-type]


class HttpClient:
    """One httpx.AsyncClient with credentials, retries and error mapping."""

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
        stream_silence: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.access_token = access_token
        self.refresh_token: str | None = None  # set by login/refresh through this client
        #: The server said it honours Idempotency-Key (so a create may be sent again).
        self.server_keeps_keys = False
        self.timeout = timeout
        self.max_tries = max(1, max_tries)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        #: How long a streamed answer may send nothing (not even a keep-alive) before it is given up.
        self.stream_silence = stream_silence if stream_silence is not None else stream_silence_default()
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"User-Agent": f"crewos-tui/{__version__}", "Accept": "application/json"},
        )

    @property
    def httpx_client(self) -> httpx.AsyncClient:
        """The one httpx client; this package's streamed answers use it with ``credential_headers``."""
        return self._client

    # ---- transport -----------------------------------------------------------------

    def credential_headers(self, credential: Credential) -> dict[str, str]:
        # Send exactly one credential: a server given both would pick the API key,
        # and JWT-only routes (key and session management) refuse API keys.
        bearer = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else None
        key = {API_KEY_HEADER: self.api_key} if self.api_key else None
        if credential == "public":
            return {}
        if credential == "jwt":
            return bearer or key or {}
        return key or bearer or {}

    def not_crewos(self, status: int) -> str:
        return f"the server at {self.base_url} answered {status} (not a CrewOS answer)"

    def error_for(self, response: httpx.Response) -> CrewOSError:
        """The error an answer of status >= 400 stands for: the server's ``detail``, or,
        when the body is not a CrewOS answer, which server answered which status."""
        detail = detail_of(response)
        if detail is None:
            detail = self.not_crewos(response.status_code)
        return error_for_status(response.status_code, detail, retry_after(response))

    def decode(self, response: httpx.Response) -> Any:
        """The JSON of a successful answer (None for an empty body)."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Unavailable(self.not_crewos(response.status_code)) from None

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = retry_after(response)
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
        json: Any = NO_BODY,
        files: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
        idempotent: bool = False,
        gone: Any = NO_BODY,
    ) -> Any:
        """Send one API request (retrying when safe); the decoded JSON answer or an error.

        ``headers`` are added to this request's (every attempt's). ``raw=True`` returns the
        ``httpx.Response`` itself (downloads of bytes). ``idempotent=True`` (creates) sends an
        ``Idempotency-Key`` and may send it again. ``gone``: for a DELETE, what to answer when
        a retry finds the thing gone after an attempt whose answer was lost (the first attempt
        deleted it); without it that 404 is an error like any other."""
        kwargs: dict[str, Any] = {"headers": {**self.credential_headers(credential), **(headers or {})}}
        slot = current_key() if idempotent else None
        if slot is not None:
            slot.replayed = False
        if idempotent:
            key = check_key(slot.key) if slot is not None else new_key()  # as the service would
            kwargs["headers"][IDEMPOTENCY_HEADER] = key
            if files is not None:  # the same key must come with the same bytes: fix the boundary
                boundary = hashlib.sha256(key.encode()).hexdigest()[:32]
                kwargs["headers"]["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        if params:
            kwargs["params"] = {k: str(v) for k, v in params.items() if v is not None}
        if json is not NO_BODY:
            kwargs["json"] = json
        if files is not None:
            kwargs["files"] = files
        if data:
            kwargs["data"] = data
        retryable = method in IDEMPOTENT
        maybe_done = False  # an earlier attempt may have reached the server and done its work
        for attempt in range(1, self.max_tries + 1):
            response: httpx.Response | None = None
            unsent = False  # the request never reached the server: sending it again is safe
            try:
                response = await self._client.request(method, path, **kwargs)
                if SUPPORT_HEADER in response.headers:
                    self.server_keeps_keys = True
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:  # never sent
                error: CrewOSError = self._unreachable(exc)
                unsent = True
            except httpx.TransportError as exc:  # sent, perhaps done, but the answer is lost
                error, maybe_done = self._unreachable(exc), True
            else:
                status = response.status_code
                if status < 400:
                    if slot is not None and response.headers.get(REPLAYED_HEADER) == "true":
                        slot.mark_replayed()
                    return response if raw else self.decode(response)
                if (status == 404 and maybe_done and method == "DELETE" and gone is not NO_BODY
                        and detail_of(response) is not None):
                    return gone  # the lost attempt deleted it
                error = self.error_for(response)
                if status not in RETRY_STATUSES:
                    raise error
                maybe_done = maybe_done or status in (502, 504)  # a proxy may have passed it on
            # A create with a key may be sent again: to a server that keeps keys, or if it never left.
            again = retryable or (idempotent and (self.server_keeps_keys or unsent))
            if not again or attempt == self.max_tries:
                raise error
            await asyncio.sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")

    async def create(self, path: str, **kwargs: Any) -> Any:
        """A create (POST answering 201): sent with an ``Idempotency-Key``, so it may be sent again."""
        return await self.request("POST", path, idempotent=True, **kwargs)

    def _unreachable(self, exc: httpx.TransportError) -> Unavailable:
        if isinstance(exc, httpx.TimeoutException):
            return Unavailable(f"cannot reach {self.base_url}: no answer within {self.timeout:g} s")
        return Unavailable(f"cannot reach {self.base_url}: {transport_failure(exc)}")

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


def transport_failure(exc: httpx.TransportError) -> str:
    """What went wrong with the connection, in words (httpx's own text, when it has any)."""
    if str(exc):
        return str(exc)
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return "the connection was closed or reset"
    return exc.__class__.__name__


def paging(limit: int, cursor: str | None, **extra: Any) -> dict[str, Any]:
    return {"limit": limit, "cursor": cursor, **extra}
