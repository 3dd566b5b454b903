"""The ``Idempotency-Key`` header of creates (``backend/idempotency.py`` has the rules).

``CrewOSRoute`` is the route class of every router: a create (a POST that answers
201 Created) gets a dependency that reads the header and sets the key for the service
call, the way ``request_id.py`` sets the request id; the OpenAPI document lists the
header on exactly those operations. The service method does the rest
(``local/idempotency.py``). A replayed answer carries ``Idempotent-Replayed: true``.

``AdvertiseKeys`` puts ``X-CrewOS-Idempotency: <seconds kept>`` on every answer, so a
client knows this server honours keys before it retries a create.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, Header, Response
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..idempotency import HEADER, KEPT, MAX_KEY_LENGTH, REPLAYED_HEADER, SUPPORT_HEADER, idempotency_key

KEY_DOC = (
    f"Makes this create safe to send again: the same key with the same request within "
    f"{KEPT.total_seconds() / 3600:g} h answers the first answer (with `{REPLAYED_HEADER}: true`) and changes "
    f"nothing; the same key with a different request is a 409. Keys belong to the caller; 1-{MAX_KEY_LENGTH} "
    "printable ASCII characters (a random UUID is a good key). Creating an API key again with its key is a 409: "
    "the raw key is shown once."
)


async def _key_scope(
    response: Response,
    key: Annotated[str | None, Header(alias=HEADER, description=KEY_DOC)] = None,
) -> AsyncIterator[None]:
    if key is None:
        yield
        return

    def replayed() -> None:
        response.headers[REPLAYED_HEADER] = "true"

    with idempotency_key(key, on_replay=replayed):
        yield


#: The dependency a create route gets (scope "function": the key is unset as the call returns).
IDEMPOTENCY_KEY = Depends(_key_scope, scope="function")


def is_create(methods: Iterable[str] | None, status_code: int | None) -> bool:
    return status_code == 201 and {m.upper() for m in methods or ()} == {"POST"}


class CrewOSRoute(APIRoute):
    """The route class of the API: creates take an ``Idempotency-Key``."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if is_create(kwargs.get("methods"), kwargs.get("status_code")):
            dependencies = list(kwargs.get("dependencies") or [])
            if not any(d is IDEMPOTENCY_KEY for d in dependencies):  # include_router copies routes
                kwargs["dependencies"] = [*dependencies, IDEMPOTENCY_KEY]
        super().__init__(path, endpoint, **kwargs)


class AdvertiseKeys:
    """Every answer says that this server keeps idempotency keys, and for how long."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.value = str(int(KEPT.total_seconds()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_advertised(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[SUPPORT_HEADER] = self.value
            await send(message)

        await self.app(scope, receive, send_advertised)
