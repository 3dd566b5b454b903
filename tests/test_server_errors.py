"""How the server answers bad input: readable 422s, the error mapping, the login rate
limit, upload limits, and no 500 for any input (hypothesis hunts for one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crewos_tui.backend import errors
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.server.app import create_app
from crewos_tui.backend.server.handlers import error_response, validation_detail
from crewos_tui.backend.server.ratelimit import SlidingWindowLimiter


@dataclass
class Api:
    client: httpx.AsyncClient
    headers: dict[str, str]  # a member's API key
    project_id: str
    services: Services


@pytest.fixture
async def api(services: Services, make_user, api_key_for) -> AsyncIterator[Api]:
    user, _ = await make_user()
    headers = {"X-CrewOS-API-Key": await api_key_for(user)}
    app = create_app(services, login_attempts_per_minute=3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        r = await client.post("/api/v1/projects", json={"name": "Errors"}, headers=headers)
        assert r.status_code == 201, r.text
        yield Api(client, headers, r.json()["id"], services)


def detail(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    return body["detail"]


# ---- 422: one readable string ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        ("POST", "/api/v1/projects", {"json": {"name": ""}}, "body.name: String should have at least 1 character"),
        ("POST", "/api/v1/projects", {"json": {"name": "x" * 121}},
         "body.name: String should have at most 120 characters"),
        ("POST", "/api/v1/projects", {"json": {"name": "ok", "bogus": 1}},
         "body.bogus: Extra inputs are not permitted"),
        ("POST", "/api/v1/projects", {"json": {"name": 5}}, "body.name: Input should be a valid string"),
        ("POST", "/api/v1/projects", {}, "body: Field required"),
        ("GET", "/api/v1/projects?limit=0", {}, "query.limit: Input should be greater than or equal to 1"),
        ("GET", "/api/v1/projects?limit=201", {}, "query.limit: Input should be less than or equal to 200"),
        ("GET", "/api/v1/projects?limit=abc", {},
         "query.limit: Input should be a valid integer, unable to parse string as an integer"),
        ("GET", "/api/v1/projects?status=gone", {}, "query.status: Input should be 'active' or 'archived'"),
    ],
)
async def test_validation_errors_are_one_readable_string(api: Api, method: str, path: str, kwargs: dict,
                                                         expected: str) -> None:
    r = await api.client.request(method, path, headers=api.headers, **kwargs)
    assert r.status_code == 422
    assert detail(r) == expected


async def test_malformed_json_is_422_naming_the_problem(api: Api) -> None:
    r = await api.client.post("/api/v1/projects", content=b'{"name": ', headers={**api.headers,
                                                                                 "content-type": "application/json"})
    assert r.status_code == 422
    assert detail(r).startswith("body: invalid JSON")


async def test_member_patch_with_unknown_role_names_the_choices(api: Api) -> None:
    r = await api.client.patch(f"/api/v1/projects/{api.project_id}/members/someone", json={"role": "boss"},
                               headers=api.headers)
    assert r.status_code == 422
    assert detail(r) == "body.role: Input should be 'owner', 'editor' or 'viewer'"


def test_validation_detail_lists_a_few_issues_and_counts_the_rest() -> None:
    issues = [{"loc": ("body", f"f{i}"), "msg": "bad"} for i in range(8)]
    text = validation_detail(issues)
    assert text.startswith("body.f0: bad; body.f1: bad")
    assert text.endswith("(and 3 more)")
    assert validation_detail([]) == "invalid request"


# ---- domain errors map to their status codes --------------------------------------------------


@pytest.mark.parametrize(
    "error", [errors.Invalid, errors.Unauthorized, errors.Forbidden, errors.NotFound, errors.Conflict,
              errors.PayloadTooLarge, errors.UnsupportedMedia, errors.RateLimited, errors.Unavailable],
)
def test_every_crewos_error_maps_to_its_status_and_detail(error: type[errors.CrewOSError]) -> None:
    response = error_response(error("what happened", retry_after=2.2))
    assert response.status_code == error.status_code
    assert json.loads(response.body) == {"detail": "what happened"}
    assert response.headers["retry-after"] == "3"
    assert ("www-authenticate" in response.headers) == (error is errors.Unauthorized)


async def test_service_errors_reach_the_client_as_status_and_detail(api: Api) -> None:
    r = await api.client.get("/api/v1/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=api.headers)
    assert r.status_code == 404 and "not found" in detail(r)
    r = await api.client.post("/api/v1/projects", json={"name": "Errors"}, headers=api.headers)
    assert r.status_code == 409 and "Errors" in detail(r)
    r = await api.client.get("/api/v1/projects?cursor=%%%", headers=api.headers)
    assert r.status_code == 422 and "cursor" in detail(r)


async def test_unexpected_exception_is_a_logged_500_with_a_plain_detail(services: Services,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(services)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        r = await client.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error"}
    assert "secret internals" in caplog.text


# ---- every error status is documented ---------------------------------------------------------


def _error_classes(cls: type[errors.CrewOSError]) -> list[type[errors.CrewOSError]]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_error_classes(sub))]


async def test_every_error_status_is_documented_on_every_authenticated_operation(services: Services) -> None:
    import crewos_tui.secrets  # noqa: F401  (KeyringUnavailable, a 503, is defined there)
    from crewos_tui.backend.server.auth import needs_credentials
    from crewos_tui.backend.server.routes._common import ERROR_STATUSES

    # CrewOSError itself is never raised: only its subclasses, each with its own status.
    # StreamIncomplete (502) is the remote client's own verdict on a cut stream; no server answers it.
    answered = [c for c in _error_classes(errors.CrewOSError) if c is not errors.StreamIncomplete]
    assert {c.status_code for c in answered} <= set(ERROR_STATUSES)
    spec = create_app(services).openapi()
    undocumented = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not needs_credentials(path):
                continue
            for status in ERROR_STATUSES:
                answer = op["responses"].get(str(status), {})
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if schema.get("$ref") != "#/components/schemas/ErrorBody" or not answer.get("description"):
                    undocumented.append(f"{method.upper()} {path} {status}")
    assert undocumented == []
    assert spec["components"]["schemas"]["ErrorBody"]["required"] == ["detail"]


# ---- login rate limit ---------------------------------------------------------------------------


async def test_login_is_rate_limited_per_client(api: Api) -> None:
    attempt = {"username": "nobody", "password": "wrong password"}
    for _ in range(3):  # the fixture allows 3 a minute
        assert (await api.client.post("/api/v1/auth/login", json=attempt)).status_code == 401
    r = await api.client.post("/api/v1/auth/login", json=attempt)
    assert r.status_code == 429
    assert "too many login attempts" in detail(r)
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_sliding_window_frees_slots_as_attempts_age() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(2, window=60.0, clock=lambda: now[0])
    assert limiter.hit("a") is None
    now[0] = 30.0
    assert limiter.hit("a") is None
    assert limiter.hit("a") == pytest.approx(30.0)  # the first attempt ages out at t=60
    assert limiter.hit("b") is None  # per client
    now[0] = 60.5
    assert limiter.hit("a") is None


# ---- uploads ------------------------------------------------------------------------------------


async def test_upload_over_the_limit_is_413_and_at_the_limit_is_accepted(api: Api) -> None:
    api.services.ctx.settings.max_upload_bytes = 100
    url = f"/api/v1/projects/{api.project_id}/documents/upload"
    r = await api.client.post(url, files={"file": ("big.txt", b"a" * 101, "text/plain")}, headers=api.headers)
    assert r.status_code == 413, r.text
    detail(r)
    r = await api.client.post(url, files={"file": ("ok.txt", b"a" * 100, "text/plain")}, headers=api.headers)
    assert r.status_code == 201, r.text
    assert r.json()["size"] == 100


async def test_upload_that_is_not_text_is_415(api: Api) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    r = await api.client.post(f"/api/v1/projects/{api.project_id}/documents/upload",
                              files={"file": ("logo.png", png, "image/png")}, headers=api.headers)
    assert r.status_code == 415, r.text
    detail(r)


async def test_upload_without_a_file_is_422(api: Api) -> None:
    r = await api.client.post(f"/api/v1/projects/{api.project_id}/documents/upload",
                              data={"folder_path": "docs"}, headers=api.headers)
    assert r.status_code == 422
    assert detail(r) == "body.file: Field required"


async def test_upload_with_a_broken_multipart_body_is_4xx(api: Api) -> None:
    r = await api.client.post(f"/api/v1/projects/{api.project_id}/documents/upload", content=b"--x\r\ngarbage",
                              headers={**api.headers, "content-type": "multipart/form-data; boundary=x"})
    assert 400 <= r.status_code < 500, r.text


# ---- no 500 for any input -----------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
#: Objects shaped like our request bodies, with values of any type.
body_like = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(("name", "description", "template", "role", "status", "comment", "message",
                            "document_id", "refresh_token", "scopes", "expires_at", "username", "password"),
                           json_values),
)
ids = st.text(min_size=1, max_size=80)
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

JSON_ROUTES = [
    ("POST", "/api/v1/projects"),
    ("PATCH", "/api/v1/projects/{pid}"),
    ("PATCH", "/api/v1/projects/{pid}/members/{id}"),
    ("POST", "/api/v1/projects/{pid}/access-requests"),
    ("PATCH", "/api/v1/projects/{pid}/access-requests/{id}"),
    ("POST", "/api/v1/projects/{pid}/folder-updates/{id}/approve"),
    ("POST", "/api/v1/projects/{pid}/folder-updates/{id}/reject"),
    ("POST", "/api/v1/projects/{pid}/documents/reingest"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/api-keys"),
]
ID_ROUTES = [
    ("GET", "/api/v1/projects/{id}"),
    ("DELETE", "/api/v1/projects/{id}/members/{id}"),
    ("GET", "/api/v1/projects/{id}/members"),
    ("GET", "/api/v1/projects/{id}/documents"),
    ("POST", "/api/v1/projects/{id}/archive"),
    ("DELETE", "/api/v1/auth/api-keys/{id}"),
]


@fuzz
@given(route=st.sampled_from(JSON_ROUTES), body=body_like | json_values, use_real_project=st.booleans(), other=ids)
async def test_no_500_for_any_json_body(api: Api, route: tuple[str, str], body: object, use_real_project: bool,
                                        other: str) -> None:
    method, template = route
    pid = api.project_id if use_real_project else quote(other, safe="")
    path = template.format(pid=pid, id=quote(other, safe=""))
    r = await api.client.request(method, path, json=body, headers=api.headers)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        detail(r)


@fuzz
@given(route=st.sampled_from(ID_ROUTES), some_id=ids, limit=st.none() | st.text(max_size=6),
       cursor=st.none() | st.text(max_size=60))
async def test_no_500_for_any_id_or_paging_input(api: Api, route: tuple[str, str], some_id: str, limit: str | None,
                                                 cursor: str | None) -> None:
    method, template = route
    params = {k: v for k, v in {"limit": limit, "cursor": cursor}.items() if v is not None}
    r = await api.client.request(method, template.format(id=quote(some_id, safe="")), params=params,
                                 headers=api.headers)
    assert r.status_code < 500, r.text


@fuzz
@example(raw=b'{"name": NaN, "description": Infinity}', content_type="application/json")
@example(raw=b'{"name": "' + "\u00e9".encode() * 3 + b'\\ud800"}', content_type="application/json")
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "text/plain",
                                                                  "multipart/form-data; boundary=b", "", "x/y"]))
async def test_no_500_for_any_raw_body(api: Api, raw: bytes, content_type: str) -> None:
    for path in ("/api/v1/projects", f"/api/v1/projects/{api.project_id}/documents/upload", "/api/v1/auth/login"):
        r = await api.client.post(path, content=raw, headers={**api.headers, "content-type": content_type})
        assert r.status_code < 500, r.text


@fuzz
@given(filename=st.text(max_size=300), content=st.binary(max_size=300), folder=st.none() | st.text(max_size=300),
       content_type=st.sampled_from(["text/plain", "text/markdown", "application/json", "image/png",
                                     "application/octet-stream"]))
async def test_no_500_for_any_upload(api: Api, filename: str, content: bytes, folder: str | None,
                                     content_type: str) -> None:
    r = await api.client.post(f"/api/v1/projects/{api.project_id}/documents/upload",
                              files={"file": (filename, content, content_type)},
                              data={"folder_path": folder} if folder is not None else None, headers=api.headers)
    assert r.status_code < 500, r.text


@fuzz
@given(credential=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120),
       header=st.sampled_from(["X-CrewOS-API-Key", "Authorization"]))
async def test_no_500_for_any_credential(api: Api, credential: str, header: str) -> None:
    r = await api.client.get("/api/v1/auth/me", headers={header: credential})
    assert r.status_code == 401, r.text


# ---- four 500s a schemathesis run found -------------------------------------------------------

BEYOND_SQLITE = 2**64  # SQLite stores signed 64-bit integers; Python hands it anything
#: Integers the service itself keeps away from SQLite: any attachment index is a 404
#: (tests/contract/test_review_queue_contract.py asks for index 10**20).
CHECKED_BY_THE_SERVICE = {"GET /api/v1/review/queue/{item_id}/attachments/{attachment_index}/download "
                          "path.attachment_index"}


def _int_schemas(schema: dict[str, Any], spec: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every integer schema reachable from ``schema`` (refs resolved), with where it is."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _int_schemas(spec["components"]["schemas"][name], spec, f"{where}({name})")
    found: list[tuple[str, dict[str, Any]]] = [(where, schema)] if schema.get("type") == "integer" else []
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            found += _int_schemas(part, spec, where)
    for name, sub in schema.get("properties", {}).items():
        found += _int_schemas(sub, spec, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _int_schemas(schema[key], spec, f"{where}[]")
    return found


async def test_every_integer_a_request_sends_is_bounded_within_sqlite(services: Services) -> None:
    # A larger integer reaches SQLite as an OverflowError: a 500. Every integer query or path
    # parameter and request-body field says its maximum, so the server answers 422 instead.
    spec = create_app(services).openapi()
    unbounded = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            targets = [(f"{p['in']}.{p['name']}", p["schema"]) for p in op.get("parameters", [])]
            for content in op.get("requestBody", {}).get("content", {}).values():
                targets.append(("body", content["schema"]))
            for where, schema in targets:
                # OpenAPI gives bounds as floats: 2**63 - 1 reads as float(2**63 - 1).
                unbounded += [f"{method.upper()} {path} {w}" for w, s in _int_schemas(schema, spec, where)
                              if float(s.get("maximum", 2.0**64)) > float(2**63 - 1)]
    assert sorted(set(unbounded) - CHECKED_BY_THE_SERVICE) == []


async def test_an_integer_beyond_sqlite_in_a_query_is_422_not_500(api: Api, make_user, api_key_for) -> None:
    prefix = "errors-kb"
    writer, _ = await make_user(grants=[f"{prefix}/*"])
    headers = {"X-CrewOS-API-Key": await api_key_for(writer)}
    r = await api.client.post("/api/v1/knowledge", json={"namespace": f"{prefix}/notes", "title": "Leases",
                                                          "body": "Jobs are claimed with a lease."}, headers=headers)
    assert r.status_code == 201, r.text
    entry = r.json()
    r = await api.client.get(f"/api/v1/knowledge/{entry['id']}", params={"version": BEYOND_SQLITE}, headers=headers)
    assert r.status_code == 422, r.text
    assert detail(r).startswith("query.version: Input should be less than or equal to")
    r = await api.client.put(f"/api/v1/knowledge/{entry['id']}", json={"title": "Leases!",
                                                                       "expected_version": BEYOND_SQLITE},
                             headers=headers)
    assert r.status_code == 422 and detail(r).startswith("body.expected_version: "), r.text
    r = await api.client.get(f"/api/v1/attachments/{'t' * 20}/source", params={"revision": BEYOND_SQLITE},
                             headers=headers)
    assert r.status_code == 422 and detail(r).startswith("query.revision: "), r.text


@pytest.mark.parametrize(("field", "value"), [("assignee_id", ""), ("blocked_by", [""])])
async def test_an_empty_id_in_a_create_body_is_422_not_500(api: Api, field: str, value: object) -> None:
    body = {"project_id": api.project_id, "title": "Empty ids", field: value}
    r = await api.client.post("/api/v1/tasks", json=body, headers=api.headers)
    assert r.status_code == 422, r.text
    assert detail(r).startswith(f"body.{field}")
    tasks = await api.client.get("/api/v1/tasks", params={"project_id": api.project_id}, headers=api.headers)
    assert tasks.json()["items"] == []


async def test_an_empty_id_in_an_update_body_is_422_not_500(api: Api) -> None:
    r = await api.client.post("/api/v1/tasks", json={"project_id": api.project_id, "title": "Keep"},
                              headers=api.headers)
    assert r.status_code == 201, r.text
    r = await api.client.patch(f"/api/v1/tasks/{r.json()['id']}", json={"assignee_id": ""}, headers=api.headers)
    assert r.status_code == 422 and detail(r).startswith("body.assignee_id"), r.text


@pytest.mark.parametrize("content", ["", "   \n\t ", "<h1></h1>", "<p>&nbsp;</p>", "# \n", "!!! ???"])
async def test_a_research_source_without_usable_text_is_422_with_a_reason(api: Api, make_user, api_key_for,
                                                                          content: str) -> None:
    admin, _ = await make_user(role="admin")
    headers = {"X-CrewOS-API-Key": await api_key_for(admin)}
    sources = [{"url": "https://example.org/ok", "content": "Token buckets refill at a fixed rate."},
               {"url": "https://example.org/empty", "content": content}]
    r = await api.client.post("/api/v1/knowledge/web-research/runs",
                              json={"topic": "rate limiting", "namespace": "errors/research", "sources": sources},
                              headers=headers)
    assert r.status_code == 422, r.text
    assert detail(r).startswith("sources.1.content: the content has no text to review")
    runs = await api.client.get("/api/v1/knowledge/web-research/runs", headers=headers)
    assert runs.status_code == 200 and runs.json()["items"] == []  # nothing half-written
    # A URL without content is still listed, as unfetched (no text was claimed).
    r = await api.client.post("/api/v1/knowledge/web-research/runs",
                              json={"topic": "rate limiting", "namespace": "errors/research",
                                    "sources": [{"url": "https://example.org/later"}]}, headers=headers)
    assert r.status_code == 201 and r.json()["candidates"][0]["status"] == "unfetched", r.text


@pytest.mark.parametrize(("path", "content_type", "raw", "expected"), [
    ("/api/v1/projects", "application/json", b'{"name": "caf\xe9"}', "body: invalid JSON (not UTF-8 text)"),
    ("/api/v1/projects", "application/json", b"\xff\xfe\x00", "body: invalid JSON (not UTF-8 text)"),
    ("/api/v1/projects/{pid}/documents/upload", "multipart/form-data", b"--x\r\ngarbage",
     "body: could not be parsed"),
    ("/api/v1/chat", "multipart/form-data", b"--x\r\n", "body: could not be parsed"),
])
async def test_a_body_that_fails_to_parse_is_the_documented_422(api: Api, path: str, content_type: str, raw: bytes,
                                                                 expected: str) -> None:
    r = await api.client.post(path.format(pid=api.project_id), content=raw,
                              headers={**api.headers, "content-type": content_type})
    assert r.status_code == 422, r.text
    assert detail(r).startswith(expected)


async def test_other_http_errors_keep_their_status(api: Api) -> None:
    r = await api.client.get("/api/v1/no-such-thing", headers=api.headers)
    assert r.status_code == 404 and detail(r) == "Not Found"
    r = await api.client.put("/api/v1/projects", json={}, headers=api.headers)
    assert r.status_code == 405 and detail(r) == "Method Not Allowed"
