"""A transport that sends every create twice: the answer the client gets is the first;
the second send, with the same Idempotency-Key and the same bytes, must answer the same
(status and body, marked ``Idempotent-Replayed``) and record no domain event.

``tests/test_audit_coverage.py`` puts it under its scenarios, which call every
state-changing endpoint, so each create of the API is replayed once by the client that
made it. ``replayed`` holds the route templates ("POST /api/v1/tasks") checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
from starlette.routing import Match

from crewos_tui.backend.idempotency import HEADER, REPLAYED_HEADER
from crewos_tui.backend.server.idempotency import is_create

#: Creates whose replay is a refusal by design, and the words it must contain.
REFUSED_REPLAYS = {"POST /api/v1/auth/api-keys": "its raw key is shown only once"}


def api_routes(routes: list[Any]) -> Iterator[Any]:
    """Every APIRoute, through the routers FastAPI wraps on include."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(list(included.routes))
        elif hasattr(route, "dependant"):
            yield route


def create_routes(app: Any) -> dict[str, Any]:
    """Every create the app serves, by ``"POST <path template>"``."""
    return {f"POST {route.path}": route for route in api_routes(list(app.routes))
            if is_create(route.methods, route.status_code)}


class ReplayingTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: Any, events: Callable[[], Awaitable[int]]) -> None:
        self.inner = httpx.ASGITransport(app)
        self.creates = create_routes(app)
        self.events = events  # the number of domain events recorded so far
        self.replayed: dict[str, str] = {}  # endpoint -> "answered" | "refused"

    def _endpoint(self, request: httpx.Request) -> str | None:
        scope = {"type": "http", "method": request.method, "path": request.url.path}
        for endpoint, route in self.creates.items():
            if route.matches(scope)[0] == Match.FULL:
                return endpoint
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        first = await self.inner.handle_async_request(request)
        content = await first.aread()
        endpoint = self._endpoint(request)
        if endpoint is None or first.status_code >= 300:
            return httpx.Response(first.status_code, headers=first.headers, content=content)
        assert request.headers.get(HEADER), f"{endpoint}: the client sent no {HEADER}"
        before = await self.events()
        again = await self.inner.handle_async_request(
            httpx.Request(request.method, request.url, headers=request.headers, content=body))
        again_content = await again.aread()
        assert await self.events() == before, f"{endpoint}: the replay recorded a change"
        refusal = REFUSED_REPLAYS.get(endpoint)
        if refusal is not None:
            assert again.status_code == 409 and refusal in again.json()["detail"], (endpoint, again_content)
            self.replayed[endpoint] = "refused"
        else:
            assert again.status_code == first.status_code, (endpoint, again.status_code, again_content)
            assert again.headers.get(REPLAYED_HEADER) == "true", endpoint
            assert again.json() == httpx.Response(200, content=content).json(), f"{endpoint}: another answer"
            self.replayed[endpoint] = "answered"
        return httpx.Response(first.status_code, headers=first.headers, content=content)
