"""The auth matrix: every endpoint of the implemented groups of the CrewOS map
(docs/api/endpoints.tsv in this repository) exists at its method and path, is in /openapi.json,
and refuses the wrong credential the way the map's auth column says.

One app and database serve the whole module (the matrix is ~200 requests); a test
that ends sessions or revokes keys uses a fresh login, so no test depends on order.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
import pytest_asyncio
from fastapi import FastAPI

from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ApiKeyCreate, UserCreate, UserInfo
from crewos_tui.backend.server.app import create_app

from .endpoint_map import ENDPOINTS, GROUPS, Endpoint

pytestmark = pytest.mark.asyncio(loop_scope="module")

IMPLEMENTED_GROUPS = GROUPS
PASSWORD = "matrix password 1"


NON_PUBLIC = [e for e in ENDPOINTS if e.auth != "Public"]
PUBLIC = [e for e in ENDPOINTS if e.auth == "Public"]
RESTRICTED = [e for e in ENDPOINTS if e.auth in ("JWT", "Admin")]
KEY_ROUTES = [e for e in ENDPOINTS if e.auth == "API key"]
SCHEMA_DOCS = {"/openapi.json", "/docs"}  # FastAPI's own; not listed inside the schema

BAD_CREDENTIALS = {
    "garbage key": {"X-CrewOS-API-Key": "garbage"},
    "key-shaped key": {"X-CrewOS-API-Key": "crewos_abcdefgh_not-a-real-secret"},
    "garbage bearer": {"Authorization": "Bearer not.a.jwt"},
    "key-shaped bearer": {"Authorization": "Bearer crewos_abcdefgh_not-a-real-secret"},
    "basic auth": {"Authorization": "Basic dXNlcjpwYXNz"},
    "empty bearer": {"Authorization": "Bearer "},
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def key(raw: str) -> dict[str, str]:
    return {"X-CrewOS-API-Key": raw}


@dataclass
class Env:
    services: Services
    app: FastAPI
    client: httpx.AsyncClient
    member: UserInfo
    admin: UserInfo
    member_key: str
    admin_key: str

    async def new_user(self, role: str = "member") -> UserInfo:
        name = f"u{time.monotonic_ns()}"
        return await self.services.auth.create_user(
            Principal.system(), UserCreate(username=name, password=PASSWORD, role=role))

    async def new_key(self, user: UserInfo, scopes: list[str] | None = None) -> str:
        principal = await self.services.auth.principal_for(user.username)
        created = await self.services.auth.create_api_key(
            principal, ApiKeyCreate(name=f"k{time.monotonic_ns()}", scopes=scopes))
        return created.key

    async def login(self, user: UserInfo) -> dict:
        r = await self.client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return r.json()

    async def session(self, user: UserInfo) -> str:
        """A fresh access token: tests may end sessions without disturbing others."""
        return (await self.login(user))["access_token"]

    async def right_credentials(self, endpoint: Endpoint) -> list[dict[str, str]]:
        if endpoint.auth == "Public":
            return [{}]
        if endpoint.auth == "JWT":
            return [bearer(await self.session(self.member))]
        if endpoint.auth == "Admin":
            return [key(self.admin_key), bearer(await self.session(self.admin))]
        return [key(self.member_key), bearer(await self.session(self.member))]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    services = await Services.open(tmp_path_factory.mktemp("matrix") / "crewos.db", settings=Settings(scrypt_n=2**4))
    app = create_app(services, login_attempts_per_minute=100_000)  # the matrix logs in often
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        e = Env(services, app, client, member=None, admin=None, member_key="", admin_key="")  # type: ignore[arg-type]
        e.member, e.admin = await e.new_user("member"), await e.new_user("admin")
        e.member_key, e.admin_key = await e.new_key(e.member), await e.new_key(e.admin)
        yield e
    await services.close()


def assert_route_answered(endpoint: Endpoint, r: httpx.Response) -> None:
    """The request reached a route: not the router's own 404/405, and no crash."""
    assert r.status_code != 405, f"{endpoint}: method not allowed"
    assert not (r.status_code == 404 and r.json().get("detail") == "Not Found"), f"{endpoint}: no such route"
    assert r.status_code < 500, f"{endpoint}: {r.status_code} {r.text}"


def assert_401(r: httpx.Response, what: str = "") -> None:
    assert r.status_code == 401, f"{what}: {r.status_code} {r.text}"
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert "bearer" in r.headers["www-authenticate"].lower()


# ---- the map and the schema -----------------------------------------------------------------


async def test_map_lists_the_expected_endpoints() -> None:
    for group, count in IMPLEMENTED_GROUPS.items():
        assert len([e for e in ENDPOINTS if e.group == group]) == count, group
    assert len(ENDPOINTS) == sum(IMPLEMENTED_GROUPS.values())  # every group counted once


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_route_exists_at_the_map_method_and_path(env: Env, endpoint: Endpoint) -> None:
    # With the right credential the router finds a route taking this method (its own
    # 404 says just "Not Found"; a service's 404 names what it could not find).
    for headers in await env.right_credentials(endpoint):
        assert_route_answered(endpoint, await env.client.request(endpoint.method, endpoint.url, headers=headers))


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.path not in SCHEMA_DOCS], ids=str)
async def test_route_is_in_openapi(env: Env, endpoint: Endpoint) -> None:
    paths = env.app.openapi()["paths"]
    assert endpoint.path in paths, endpoint
    responses = paths[endpoint.path][endpoint.method.lower()]["responses"]
    assert "200" in responses or "201" in responses


async def test_openapi_and_docs_are_served_with_the_package_version(env: Env) -> None:
    from crewos_tui import __version__

    r = await env.client.get("/openapi.json")
    assert r.status_code == 200 and r.json()["info"]["version"] == __version__
    assert (await env.client.get("/docs")).status_code == 200


# ---- Public -------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", PUBLIC, ids=str)
async def test_public_routes_answer_without_credentials(env: Env, endpoint: Endpoint) -> None:
    r = await env.client.request(endpoint.method, endpoint.url)
    assert r.status_code != 401, r.text
    assert_route_answered(endpoint, r)
    if endpoint.method == "GET":
        assert r.status_code == 200, r.text
    # A bad credential on a public route is ignored, not refused.
    assert (await env.client.request(endpoint.method, endpoint.url, headers=key("garbage"))).status_code != 401


# ---- non-public: no or bad credentials → 401, before any input validation ------------------


@pytest.mark.parametrize("endpoint", NON_PUBLIC, ids=str)
async def test_missing_or_bad_credentials_are_401(env: Env, endpoint: Endpoint) -> None:
    assert_401(await env.client.request(endpoint.method, endpoint.url), "no credentials")
    for what, headers in BAD_CREDENTIALS.items():
        assert_401(await env.client.request(endpoint.method, endpoint.url, headers=headers), what)


@pytest.mark.parametrize("endpoint", NON_PUBLIC, ids=str)
async def test_malformed_body_without_credentials_is_401_not_422(env: Env, endpoint: Endpoint) -> None:
    for body, content_type in [(b'{"name": ', "application/json"), (b"\xff\x00", "multipart/form-data; boundary=x")]:
        r = await env.client.request(endpoint.method, endpoint.url, content=body,
                                     headers={"content-type": content_type})
        assert_401(r, content_type)


async def test_unknown_api_path_without_credentials_is_401(env: Env) -> None:
    assert_401(await env.client.get("/api/v1/no/such/thing?limit=zzz"))


# ---- the right credential gets through; the wrong kind gets 403 -----------------------------


@pytest.mark.parametrize("endpoint", NON_PUBLIC, ids=str)
async def test_right_credential_is_accepted(env: Env, endpoint: Endpoint) -> None:
    for headers in await env.right_credentials(endpoint):
        r = await env.client.request(endpoint.method, endpoint.url, headers=headers)
        assert r.status_code not in (401, 403), f"{endpoint} with {list(headers)}: {r.text}"


@pytest.mark.parametrize("endpoint", RESTRICTED, ids=str)
async def test_wrong_kind_of_credential_is_403(env: Env, endpoint: Endpoint) -> None:
    if endpoint.auth == "JWT":  # even an admin's key cannot manage keys or sessions
        wrong, hint = [key(env.member_key), key(env.admin_key)], "api keys cannot"
    else:
        wrong, hint = [key(env.member_key), bearer(await env.session(env.member))], "admin"
    for headers in wrong:
        r = await env.client.request(endpoint.method, endpoint.url, headers=headers)
        assert r.status_code == 403, f"{endpoint}: {r.text}"
        assert hint in r.json()["detail"].lower()


@pytest.mark.parametrize("endpoint", KEY_ROUTES, ids=str)
async def test_api_key_scopes_limit_methods(env: Env, endpoint: Endpoint) -> None:
    read_only, write_only = await env.new_key(env.member, ["read"]), await env.new_key(env.member, ["write"])
    refused, allowed = (write_only, read_only) if endpoint.method == "GET" else (read_only, write_only)
    r = await env.client.request(endpoint.method, endpoint.url, headers=key(refused))
    assert r.status_code == 403 and "scope" in r.json()["detail"], r.text
    r = await env.client.request(endpoint.method, endpoint.url, headers=key(allowed))
    assert r.status_code not in (401, 403), r.text


async def test_both_credentials_sent_uses_the_api_key(env: Env) -> None:
    headers = {**key(env.member_key), **bearer(await env.session(env.member))}
    r = await env.client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 200 and r.json()["auth_method"] == "api_key"


# ---- keys and sessions end --------------------------------------------------------------------


async def test_revoked_api_key_is_401(env: Env) -> None:
    user = await env.new_user()
    token = await env.session(user)
    created = await env.client.post("/api/v1/auth/api-keys", json={"name": "short-lived"}, headers=bearer(token))
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) >= {"id", "name", "prefix", "key", "scopes", "expires_at", "created_at"}
    assert (await env.client.get("/api/v1/auth/me", headers=key(body["key"]))).status_code == 200
    listed = await env.client.get("/api/v1/auth/api-keys", headers=bearer(token))
    assert all("key" not in item for item in listed.json()["items"])
    revoked = await env.client.delete(f"/api/v1/auth/api-keys/{body['id']}", headers=bearer(token))
    assert revoked.status_code == 200, revoked.text
    assert_401(await env.client.get("/api/v1/auth/me", headers=key(body["key"])))


async def test_refresh_accepts_an_expired_access_token_but_other_routes_do_not(env: Env) -> None:
    user = await env.new_user()
    pair = await env.login(user)
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 60
    expired = jwt.encode(claims, env.services.ctx.settings.jwt_secret, algorithm="HS256")

    assert_401(await env.client.get("/api/v1/auth/me", headers=bearer(expired)))
    r = await env.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]},
                              headers=bearer(expired))
    assert r.status_code == 200, r.text
    me = await env.client.get("/api/v1/auth/me", headers=bearer(r.json()["access_token"]))
    assert me.status_code == 200 and me.json()["auth_method"] == "jwt"


async def test_logout_ends_the_session_of_the_access_token(env: Env) -> None:
    token = await env.session(await env.new_user())
    assert (await env.client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 200
    assert_401(await env.client.get("/api/v1/auth/me", headers=bearer(token)))


# ---- the first admin -----------------------------------------------------------------------


async def test_served_data_dir_gets_one_admin_with_a_password_shown_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from crewos_tui.backend.server.app import create_app_for_data_dir

    monkeypatch.delenv("CREWOS_ADMIN_PASSWORD", raising=False)

    async def start_and_login(password: str | None) -> tuple[str, int | None]:
        app = create_app_for_data_dir(tmp_path, settings=Settings(scrypt_n=2**4))
        async with app.router.lifespan_context(app):
            said = capsys.readouterr().err
            if password is None and "password:" in said:
                password = said.split("password:", 1)[1].split()[0]
            if password is None:
                return said, None
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
                r = await client.post("/api/v1/auth/login", json={"username": "admin", "password": password})
                return said, r.status_code

    said, status = await start_and_login(None)
    assert "created user 'admin'" in said and status == 200
    said, status = await start_and_login(None)  # a second start creates nobody and shows nothing
    assert "admin" not in said and status is None
