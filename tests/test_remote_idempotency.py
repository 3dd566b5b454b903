"""The remote client sends a create again after its answer was lost, with the same
Idempotency-Key, and the real server makes it once.

The transport in front of the real app (``httpx.ASGITransport``) lets each request
through, so the server does the work and commits, and then loses the answer the way a
dropped connection does (``httpx.ReadError``) for the requests the test picks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from crewos_tui.backend import errors
from crewos_tui.backend.idempotency import HEADER, REPLAYED_HEADER, SUPPORT_HEADER, idempotency_key
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import DocumentRow, ProjectRow, TaskRow
from crewos_tui.backend.remote import RemoteBackend
from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.tasks import TaskCreate
from crewos_tui.backend.server.app import create_app

from .conftest import api_key_of, user_factory
from .idempotency_support import create_routes


@dataclass
class Seen:
    method: str
    path: str
    key: str | None
    status: int | None  # None: the server never got it
    replayed: bool = False


class LosingTransport(httpx.AsyncBaseTransport):
    """The real app behind a connection that drops the answers (or requests) it is told to."""

    def __init__(self, app: object, *, lose_answer: Callable[[httpx.Request], bool] = lambda r: False,
                 refuse: Callable[[httpx.Request], bool] = lambda r: False, advertise: bool = True) -> None:
        self.inner = httpx.ASGITransport(app)  # type: ignore[arg-type]
        self.lose_answer, self.refuse, self.advertise = lose_answer, refuse, advertise
        self.seen: list[Seen] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get(HEADER)
        if self.refuse(request):
            self.seen.append(Seen(request.method, request.url.path, key, None))
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.seen.append(Seen(request.method, request.url.path, key, response.status_code,
                              response.headers.get(REPLAYED_HEADER) == "true"))
        if self.lose_answer(request):
            raise httpx.ReadError("connection reset by peer", request=request)
        if not self.advertise:  # an older server, or another CrewOS, that ignores the header
            headers = [(k, v) for k, v in response.headers.raw if k.decode().lower() != SUPPORT_HEADER.lower()]
            return httpx.Response(response.status_code, headers=headers, content=response.content)
        return response


@pytest.fixture
async def served(services: Services) -> AsyncIterator[tuple[Services, object, str]]:
    info, _ = await user_factory(services)()
    yield services, create_app(services), await api_key_of(services, info)


def first_time(method: str, path_end: str) -> Callable[[httpx.Request], bool]:
    """True for the first request with this method whose path ends so; then False."""
    done: list[bool] = []

    def pick(request: httpx.Request) -> bool:
        if request.method == method and request.url.path.endswith(path_end) and not done:
            done.append(True)
            return True
        return False

    return pick


async def count(svc: Services, row: type) -> int:
    async with svc.ctx.db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(row)) or 0)


async def test_a_create_whose_answer_was_lost_is_sent_again_and_made_once(served):
    svc, app, key = served
    transport = LosingTransport(app, lose_answer=first_time("POST", "/api/v1/tasks"))
    async with RemoteBackend("http://crewos.test", key, transport=transport, backoff=0) as b:
        project = await b.projects.create(ProjectCreate(name="Lost answers"))
        task = await b.tasks.create(TaskCreate(project_id=project.id, title="Write the docs"))
        tasks = (await b.tasks.list(project_id=project.id)).items
    posts = [s for s in transport.seen if s.method == "POST" and s.path == "/api/v1/tasks"]
    assert [(s.status, s.replayed) for s in posts] == [(201, False), (201, True)]
    assert posts[0].key and posts[0].key == posts[1].key  # the same key, sent again
    assert [t.id for t in tasks] == [task.id] and await count(svc, TaskRow) == 1
    # Each create has a key of its own.
    assert len({s.key for s in transport.seen if s.method == "POST"}) == 2


async def test_the_key_the_caller_set_is_the_one_sent(served):
    _, app, key = served
    transport = LosingTransport(app)
    async with RemoteBackend("http://crewos.test", key, transport=transport, backoff=0) as b:
        with idempotency_key("my-own-key-1") as slot:
            await b.projects.create(ProjectCreate(name="Chosen key"))
            await b.projects.create(ProjectCreate(name="Chosen key"))
    assert [s.key for s in transport.seen] == ["my-own-key-1", "my-own-key-1"] and slot.replayed


async def test_a_lost_upload_is_sent_again_with_the_same_bytes(served):
    svc, app, key = served
    transport = LosingTransport(app, lose_answer=first_time("POST", "/documents/upload"))
    async with RemoteBackend("http://crewos.test", key, transport=transport, backoff=0) as b:
        project = await b.projects.create(ProjectCreate(name="Uploads"))
        doc = await b.projects.upload_document(project.id, "notes.md", b"# Notes\n\nKept once.\n")
    uploads = [s for s in transport.seen if s.path.endswith("/documents/upload")]
    assert [(s.status, s.replayed) for s in uploads] == [(201, False), (201, True)]
    assert doc.filename == "notes.md" and await count(svc, DocumentRow) == 1


async def test_a_server_that_does_not_keep_keys_gets_a_create_once(served):
    svc, app, key = served
    transport = LosingTransport(app, lose_answer=first_time("POST", "/api/v1/tasks"), advertise=False)
    async with RemoteBackend("http://crewos.test", key, transport=transport, backoff=0) as b:
        project = await b.projects.create(ProjectCreate(name="No keys"))
        with pytest.raises(errors.Unavailable, match="connection reset by peer"):
            await b.tasks.create(TaskCreate(project_id=project.id, title="Maybe made"))
    assert [s.status for s in transport.seen if s.path == "/api/v1/tasks"] == [201]  # not sent again
    assert await count(svc, TaskRow) == 1  # (it was made; the user is told the answer did not arrive)


async def test_a_create_that_never_left_is_sent_again_even_before_the_server_said_anything(served):
    svc, app, key = served
    transport = LosingTransport(app, refuse=first_time("POST", "/api/v1/projects"), advertise=False)
    async with RemoteBackend("http://crewos.test", key, transport=transport, backoff=0) as b:
        project = await b.projects.create(ProjectCreate(name="Refused once"))
    assert [s.status for s in transport.seen] == [None, 201] and project.name == "Refused once"
    assert transport.seen[0].key == transport.seen[1].key
    async with svc.ctx.db.read() as s:
        assert (await s.get(ProjectRow, project.id)) is not None


async def test_a_create_is_sent_at_most_max_tries_times(served):
    svc, app, key = served
    transport = LosingTransport(app, lose_answer=lambda r: r.method == "POST" and r.url.path == "/api/v1/tasks")
    async with RemoteBackend("http://crewos.test", key, transport=transport, backoff=0, max_tries=3) as b:
        project = await b.projects.create(ProjectCreate(name="Always lost"))
        with pytest.raises(errors.Unavailable):
            await b.tasks.create(TaskCreate(project_id=project.id, title="Made once"))
    assert [s.replayed for s in transport.seen if s.path == "/api/v1/tasks"] == [False, True, True]
    assert await count(svc, TaskRow) == 1


def test_the_openapi_document_lists_the_header_on_every_create_and_only_there(services):
    app = create_app(services)
    creates = set(create_routes(app))
    assert len(creates) >= 26  # projects, tasks, comments, sessions, reviews, tokens, knowledge, keys, ...
    spec = app.openapi()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "header"]
            assert (HEADER in names) == (f"{method.upper()} {path}" in creates), (method, path)
    assert "Idempotency-Key" in spec["info"]["description"]
