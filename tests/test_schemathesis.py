"""Schemathesis against a live server: every operation of /openapi.json, as an admin and as a
member, with a small fixed number of generated requests each. Every answer must be below
500, have a status the schema documents for that operation, the documented content type,
and a body that matches the documented schema.

The server is the real app under uvicorn on 127.0.0.1 (``LiveServer`` of the contract
tests), serving the demo workspace, so requests reach real projects, tasks, sessions and
entries instead of answering 404 to every random id: the ids the two callers can list are
gathered once, and a generated request often carries one of them in place of a path, query
or body id. Each test gets its own copy of that workspace, so what one operation changes
(a deleted project, a revoked session, an admin's new LLM route) never reaches another
test, and a run is the same whatever order xdist gives the tests.

Bounded: a handful of examples per operation and caller, the explicit and generate phases
only (no shrinking, no stateful runs), derandomized.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from keyring.backends import fail
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ApiKeyCreate

from .conftest import FAST_SCRYPT, TEST_LOGIN_DELAY, copy_database, run_apart
from .contract.conftest import LiveServer

#: Demo users (backend/local/demo.py): an admin and a member who owns and edits projects.
CALLERS = {"admin": "maya", "member": "devon"}
DEMO_PASSWORD = "demo-password"

#: Generated requests per operation and caller: valid ones (some carrying real ids) and
#: invalid ones (the server must refuse them with a documented 4xx, not fail).
POSITIVE_EXAMPLES = 4
NEGATIVE_EXAMPLES = 2
#: Seconds an answer may take (schemathesis waits 10 s by default): a loaded CI machine builds
#: /openapi.json slowly, and the per-test limit of 120 s still ends a server that hangs.
SLOW_MACHINE = 60
BOUNDED = settings(
    max_examples=POSITIVE_EXAMPLES,
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    database=None,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation the app publishes, read from the route table so
    collection needs no server; ``test_the_live_schema_has_exactly_these_operations`` holds
    it to the served /openapi.json."""
    from crewos_tui.backend.server.routes import ROUTERS

    def walk(routes: list[Any]) -> Iterator[Any]:  # through the routers FastAPI wraps on include
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(list(included.routes))
            elif getattr(route, "include_in_schema", False):
                yield route

    ops = {(method, route.path) for router in ROUTERS for route in walk(list(router.routes))
           for method in route.methods}
    return sorted(ops, key=lambda op: (op[1], op[0]))


OPERATIONS = _operations()
Headers = dict[str, str]


# ---- which real values a request may carry -------------------------------------------------

#: Path and query parameters, and body fields, that name something: where real values for
#: them are found in the answers of the list and read operations. ``field`` is any field of
#: that name; ``field@segment`` only in objects listed by an operation whose path ends in
#: that segment (``id@projects``: the ids GET /api/v1/projects lists).
SOURCES: dict[str, tuple[str, ...]] = {
    "key_id": ("id@api-keys",),
    "project_id": ("project_id", "id@projects"),
    "member_user_id": ("user_id@members", "id@team-users"),
    "access_request_id": ("id@access-requests",),
    "folder_update_id": ("id@folder-updates",),
    "document_id": ("document_id", "id@documents"),
    "notification_id": ("id@notifications",),
    "wallet_address": ("wallet_address", "address"),
    "request_id": ("id@token-requests",),
    "run_id": ("run_id", "id@agent-runs", "id@runs"),
    "task_id": ("task_id", "id@tasks"),
    "blocks_task_id": ("id@tasks", "blocks_task_id"),
    "assignee_id": ("assignee_id", "user_id@members"),
    "job_id": ("job_id", "id@agent-jobs"),
    "name": ("name@agents",),
    "agent_name": ("agent_name", "name@agents"),
    "skill_id": ("id@skills", "skill_id"),
    "session_id": ("session_id", "id@sessions"),
    "share_id": ("id@shares", "share_id"),
    "user_id": ("user_id", "id@users"),
    "team_id": ("team_id", "team"),
    "item_id": ("item_id", "id@queue"),
    "attachment_index": ("index@queue",),  # a review item's attachments: [{"index": 0, ...}]
    "report_id": ("report_id", "id@reports"),
    "finding_id": ("finding_id", "id@findings"),
    "entry_id": ("entry_id", "id@knowledge"),
    "link_id": ("id@links", "link_id"),
    "reference_token": ("reference_token",),
    "namespace": ("namespace",),
}
# No operation is left out. Those that end the caller's own access (logout, logout-all, an
# admin disabling itself) do so only in that test's copy of the workspace: the rest of its
# requests are answered 401, which is documented and checked like any other answer.


def _walk(value: Any, segment: str, found: dict[str, set[Any]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str | int) and not isinstance(item, bool) and item != "":
                found.setdefault(key, set()).add(item)
                found.setdefault(f"{key}@{segment}", set()).add(item)
            else:
                _walk(item, segment, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, segment, found)


def _segment(path: str) -> str:
    return next(part for part in reversed(path.split("/")) if part and not part.startswith("{"))


def harvest(url: str, spec: dict[str, Any], callers: list[tuple[Headers, Headers]]) -> dict[str, list[Any]]:
    """Real values for the parameters of SOURCES: GET every operation without path
    parameters as each caller (``(API key headers, access token headers)``, the second for
    the JWT-only routes), then the GETs whose path parameter was found, for a few values."""
    found: dict[str, set[Any]] = {}
    gets = {path: ops["get"] for path, ops in spec["paths"].items()
            if "application/json" in ops.get("get", {}).get("responses", {}).get("200", {}).get("content", {})}
    with httpx.Client(base_url=url, timeout=SLOW_MACHINE) as client:
        for depth in (0, 1):
            for path, op in gets.items():
                names = re.findall(r"{(\w+)}", path)
                if len(names) != depth:
                    continue
                values = [None] if not names else sorted(_values(found, names[0]), key=str)[:2]
                for value in values:
                    target = path if value is None else path.replace(f"{{{names[0]}}}", str(value))
                    for key, token in callers:
                        r = client.get(target, headers=token if _jwt_only(op) else key)
                        if r.status_code == 200 and r.headers.get("content-type", "").startswith("application/json"):
                            _walk(r.json(), _segment(path), found)
    return {name: sorted(_values(found, name), key=str) for name in SOURCES}


def _values(found: dict[str, set[Any]], name: str) -> set[Any]:
    return set().union(*(found.get(source, set()) for source in SOURCES.get(name, ())))


# ---- the server ------------------------------------------------------------------------------


@dataclass
class Served:
    server: LiveServer
    template: Path  # the demo workspace with the callers' credentials
    schema: Any  # schemathesis' view of the served /openapi.json
    headers: dict[str, Headers]  # role -> API key header
    bearer: dict[str, Headers]  # role -> access token header (for the JWT-only routes)
    ids: dict[str, list[Any]]

    def serve_copy(self, target: Path) -> None:
        """The server answers from a fresh copy of the template from now on."""
        copy_database(self.template, target)
        server = self.server

        async def swap() -> None:
            services = await Services.open(target, settings=replace(server.settings))
            old, server.app.state.services = server.app.state.services, services
            await old.close()

        assert server.loop is not None
        asyncio.run_coroutine_threadsafe(swap(), server.loop).result(timeout=30)


def _server_settings() -> Settings:
    # One jwt_secret for the template's sign-ins and the server; access tokens outlive a
    # slow run; built-in agents answer without pauses.
    return Settings(scrypt_n=FAST_SCRYPT, login_delay_first=TEST_LOGIN_DELAY, access_token_ttl=timedelta(hours=6),
                    stream_chunk_delay=0)


@pytest.fixture(scope="session")
def served(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("schemathesis")
    template = copy_database(demo_template, folder / "template.db")
    config = _server_settings()
    headers: dict[str, Headers] = {}
    bearer: dict[str, Headers] = {}

    async def credentials() -> None:
        svc = await Services.open(template, settings=config)
        try:
            for role, username in CALLERS.items():
                principal = await svc.auth.principal_for(username)
                key = await svc.auth.create_api_key(principal, ApiKeyCreate(name=f"schemathesis-{role}"))
                headers[role] = {"X-CrewOS-API-Key": key.key}
                pair = await svc.auth.login(Principal.anonymous(), username, DEMO_PASSWORD)
                bearer[role] = {"Authorization": f"Bearer {pair.access_token}"}
        finally:
            await svc.close()

    run_apart(credentials())
    server = LiveServer(copy_database(template, folder / "harvest.db"), settings=config)
    server.start()
    try:
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", timeout=SLOW_MACHINE)
        ids = harvest(server.url, schema.raw_schema, [(headers[role], bearer[role]) for role in CALLERS])
        yield Served(server, template, schema, headers, bearer, ids)
    finally:
        server.stop()


@pytest.fixture
def no_os_keyring() -> Iterator[None]:
    """An admin's PUT /admin/llm-config stores model keys in the OS keyring of the machine
    running the service: here, none (it answers 503, as documented), never the real one."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


# ---- the run ---------------------------------------------------------------------------------

#: What every answer is held to.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _jwt_only(operation: dict[str, Any]) -> bool:
    """Whether an operation (its OpenAPI object) takes only an access token, not an API key."""
    security = operation.get("security") or []
    return bool(security) and all(list(s) == ["HTTPBearer"] for s in security)


def _has_input(operation: Any) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def _carry_real_ids(case: Any, data: st.DataObject, ids: dict[str, list[Any]]) -> None:
    """Put real values into some of the case's path, query and top-level body fields."""
    for container in (case.path_parameters, case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name in sorted(container):
            values = ids.get(name)
            if not values:
                continue
            choice = data.draw(st.sampled_from([None, *values]), label=name)
            if choice is not None and isinstance(choice, type(container[name])):
                container[name] = choice


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("role", sorted(CALLERS))
def test_operation(served: Served, role: str, method: str, path: str, tmp_path: Path, no_os_keyring: None) -> None:
    served.serve_copy(tmp_path / "crewos.db")
    operation = served.schema[path][method]
    headers = served.bearer[role] if _jwt_only(operation.definition.raw) else served.headers[role]

    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE), data=st.data())
    def valid(case: Any, data: st.DataObject) -> None:
        _carry_real_ids(case, data, served.ids)
        case.call_and_validate(base_url=served.server.url, headers=headers, checks=CHECKS, timeout=SLOW_MACHINE)

    @settings(BOUNDED, max_examples=NEGATIVE_EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def invalid(case: Any) -> None:
        case.call_and_validate(base_url=served.server.url, headers=headers, checks=CHECKS, timeout=SLOW_MACHINE)

    valid()
    if _has_input(operation):
        invalid()


def test_the_live_schema_has_exactly_these_operations(served: Served) -> None:
    live = {(method.upper(), path) for path, ops in served.schema.raw_schema["paths"].items() for method in ops}
    assert live == set(OPERATIONS)


def test_real_ids_were_found_for_the_demo_workspace(served: Served) -> None:
    # Without them every path with an id answers 404 and the run only scratches the surface.
    missing = sorted(name for name in ("project_id", "task_id", "session_id", "entry_id", "item_id",
                                       "notification_id", "user_id") if not served.ids[name])
    assert missing == []
