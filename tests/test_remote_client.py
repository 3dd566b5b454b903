"""The remote client against scripted HTTP answers: retries, error mapping,
tolerance of other CrewOS servers' shapes."""

from __future__ import annotations

import httpx
import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.remote import RemoteBackend
from crewos_tui.backend.schemas import Deleted, ProjectCreate

PROJECT = {"id": "p1", "name": "Atlas", "created_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-02T09:00:00Z"}


def scripted(*answers):
    """A transport that answers with ``answers`` in turn and records the requests."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), seen


def backend(transport, **kw):
    return RemoteBackend("http://crewos.test", "crewos_abcdefgh_secret", transport=transport, backoff=0,
                         max_retry_after=0.01, **kw)


async def test_idempotent_requests_retry_on_503_and_connection_errors():
    transport, seen = scripted(
        httpx.ConnectError("refused"),
        httpx.Response(503, json={"detail": "warming up"}),
        httpx.Response(200, json={"items": [PROJECT], "next_cursor": None}),
    )
    async with backend(transport) as b:
        page = await b.projects.list()
    assert [p.name for p in page.items] == ["Atlas"] and len(seen) == 3
    assert seen[-1].headers["X-CrewOS-API-Key"] == "crewos_abcdefgh_secret"


async def test_429_honours_retry_after_then_gives_up_with_rate_limited():
    transport, seen = scripted(*[httpx.Response(429, headers={"Retry-After": "0"}, json={"detail": "slow down"})] * 3)
    async with backend(transport) as b:
        with pytest.raises(errors.RateLimited, match="slow down"):
            await b.projects.get("p1")
    assert len(seen) == 3


async def test_non_idempotent_requests_are_sent_once():
    transport, seen = scripted(httpx.Response(503, json={"detail": "busy"}))
    async with backend(transport) as b:
        with pytest.raises(errors.Unavailable, match="busy"):
            await b.projects.create(ProjectCreate(name="x"))
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, errors.Unauthorized), (403, errors.Forbidden), (404, errors.NotFound), (409, errors.Conflict),
     (413, errors.PayloadTooLarge), (415, errors.UnsupportedMedia), (422, errors.Invalid), (500, errors.Unavailable)],
)
async def test_status_codes_map_to_the_shared_errors(status, cls):
    transport, _ = scripted(httpx.Response(status, json={"detail": "why it failed"}))
    async with backend(transport, max_tries=1) as b:
        with pytest.raises(cls, match="why it failed"):
            await b.projects.create(ProjectCreate(name="x"))


async def test_fastapi_style_detail_lists_become_a_sentence():
    detail = [{"loc": ["body", "name"], "msg": "String should have at least 1 character", "type": "x"}]
    transport, _ = scripted(httpx.Response(422, json={"detail": detail}))
    async with backend(transport) as b:
        with pytest.raises(errors.Invalid, match=r"body\.name: String should have at least 1 character"):
            await b.projects.create(ProjectCreate(name="x"))


async def test_bare_lists_and_unknown_fields_are_accepted():
    transport, _ = scripted(httpx.Response(200, json=[{**PROJECT, "brand_new_field": {"x": 1}}]))
    async with backend(transport) as b:
        page = await b.projects.list()
    assert page.items[0].id == "p1" and page.next_cursor is None


async def test_unreachable_server_is_unavailable_with_the_url():
    transport, _ = scripted(*[httpx.ConnectError("Connection refused")] * 3)
    async with backend(transport) as b:
        with pytest.raises(errors.Unavailable, match=r"cannot reach http://crewos\.test"):
            await b.health.live()


async def test_ids_cannot_escape_their_path_segment():
    transport, seen = scripted(httpx.Response(200, json=PROJECT))
    async with backend(transport) as b:
        await b.projects.get("../auth/api-keys")
    assert seen[0].url.raw_path.decode().endswith("/api/v1/projects/..%2Fauth%2Fapi-keys")


# ---- answers that are not CrewOS's ------------------------------------------------------------

NGINX_502 = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize(("status", "cls"), [(502, errors.Unavailable), (503, errors.Unavailable),
                                              (404, errors.NotFound), (401, errors.Unauthorized)])
async def test_an_html_error_page_says_which_server_answered_what(status, cls):
    page = httpx.Response(status, headers={"content-type": "text/html"}, content=NGINX_502)
    transport, _ = scripted(page)
    async with backend(transport, max_tries=1) as b:
        with pytest.raises(cls) as caught:
            await b.projects.list()
    assert str(caught.value) == f"the server at http://crewos.test answered {status} (not a CrewOS answer)"


async def test_an_empty_or_plain_text_error_body_is_not_a_crewos_answer_either():
    transport, _ = scripted(httpx.Response(500, content=b""), httpx.Response(500, text="Internal Server Error"))
    async with backend(transport, max_tries=1) as b:
        for _ in range(2):
            with pytest.raises(errors.Unavailable, match=r"answered 500 \(not a CrewOS answer\)$"):
                await b.projects.get("p1")


async def test_an_html_success_answer_is_not_a_crewos_answer():
    transport, _ = scripted(httpx.Response(200, headers={"content-type": "text/html"}, content=b"<html>hi</html>"))
    async with backend(transport) as b:
        with pytest.raises(errors.Unavailable, match=r"^the server at http://crewos\.test answered 200 \(not a"):
            await b.projects.get("p1")


# ---- a retried DELETE that finds the thing gone --------------------------------------------


def gone_404(what: str = "task t1 not found") -> httpx.Response:
    return httpx.Response(404, json={"detail": what})


async def test_a_delete_retried_after_a_lost_answer_that_finds_it_gone_has_succeeded():
    transport, seen = scripted(httpx.RemoteProtocolError("Server disconnected without sending a response."),
                               gone_404())
    async with backend(transport) as b:
        assert await b.tasks.delete("t1") == Deleted(id="t1")
    assert [r.method for r in seen] == ["DELETE", "DELETE"]
    transport, seen = scripted(httpx.ReadTimeout("no answer"), httpx.Response(504, json={"detail": "gateway"}),
                               gone_404())
    async with backend(transport) as b:
        assert await b.projects.remove_member("p1", "u1") == Deleted(id="u1")
    assert len(seen) == 3


async def test_a_404_is_not_found_when_no_earlier_attempt_can_have_deleted_it():
    # The first attempt never left (connection refused), or was refused with a 503: the
    # 404 is the truth. A 404 that is not CrewOS's (a proxy's page) never counts as gone.
    for first in (httpx.ConnectError("refused"), httpx.Response(503, json={"detail": "busy"})):
        transport, _ = scripted(first, gone_404())
        async with backend(transport) as b:
            with pytest.raises(errors.NotFound, match="task t1 not found"):
                await b.tasks.delete("t1")
    transport, _ = scripted(httpx.ReadError(""), httpx.Response(404, headers={"content-type": "text/html"},
                                                                content=b"<html>404</html>"))
    async with backend(transport) as b:
        with pytest.raises(errors.NotFound, match=r"not a CrewOS answer"):
            await b.tasks.delete("t1")
    transport, _ = scripted(gone_404())
    async with backend(transport) as b:
        with pytest.raises(errors.NotFound):
            await b.tasks.delete("t1")


async def test_headers_of_one_request_are_sent_on_every_attempt():
    transport, seen = scripted(httpx.ConnectError("refused"), httpx.Response(200, json=PROJECT))
    async with backend(transport) as b:
        await b.request("GET", "/api/v1/projects/p1", headers={"X-Request-Id": "r-1"})
    assert [r.headers["x-request-id"] for r in seen] == ["r-1", "r-1"]
    assert seen[0].headers["X-CrewOS-API-Key"] == "crewos_abcdefgh_secret"
