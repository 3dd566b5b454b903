"""Parity: the one contract seen from its sides.

For every method of every domain of the ``Backend`` protocol, the local service has a
method of that name whose parameters after ``principal`` are the protocol's, and the
remote client has it with the protocol's signature. For every endpoint of the map
(``docs/api/endpoints.tsv``) the server has a route at its method and path whose
credential dependency is the map's auth rule. Nothing here does I/O beyond opening
an empty database, so a drift fails in milliseconds, before any contract test runs.
The static side of the same check is ``crewos_tui/backend/conformance.py``: pyright
assigns both backends to ``Backend`` there.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Iterator
from typing import Any

import pytest

from crewos_tui.backend import protocol
from crewos_tui.backend.local.backend import LocalBackend
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.protocol import Backend
from crewos_tui.backend.remote import RemoteBackend
from crewos_tui.backend.server import auth as server_auth
from crewos_tui.backend.server.app import create_app

from .endpoint_map import ENDPOINTS, Endpoint


def domains() -> dict[str, type]:
    """Backend's domain members (``auth``, ``tasks``, …) and the protocol class of each."""
    found: dict[str, type] = {}
    hints = typing.get_type_hints(Backend, vars(protocol))
    for name in sorted({*dir(Backend), *hints}):
        if name.startswith("_"):
            continue
        member = inspect.getattr_static(Backend, name, None)
        kind = (typing.get_type_hints(member.fget, vars(protocol)).get("return")
                if isinstance(member, property) else hints.get(name))
        if isinstance(kind, type) and getattr(kind, "_is_protocol", False):
            found[name] = kind
    return found


def operations(api: type) -> list[str]:
    """The methods a protocol class declares, its bases' included."""
    names: set[str] = set()
    for klass in api.__mro__:
        if klass in (object, typing.Protocol, typing.Generic) or not getattr(klass, "_is_protocol", False):
            continue
        names.update(n for n, v in vars(klass).items() if inspect.isfunction(v) and not n.startswith("_"))
    return sorted(names)


DOMAINS = domains()
#: Service parameters the Backend does not offer, with a default: what only the server knows.
SERVER_ONLY = {("agents", "agent_card"): {"base_url"}, ("agents", "public_agent_card"): {"base_url"}}
OPERATIONS = [(d, op) for d, api in DOMAINS.items() for op in operations(api)]


def hints_of(fn: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except (NameError, TypeError):  # an annotation only importable under TYPE_CHECKING
        return {}


def shape(fn: Any, *, drop_first: int = 0) -> list[tuple[str, Any, Any, Any]]:
    """(name, kind, default, type) of each parameter; ``self`` is already gone from a bound method."""
    sig = inspect.signature(fn)
    hints = hints_of(fn)
    params = list(sig.parameters.values())[drop_first:]
    return [(p.name, p.kind, p.default, hints.get(p.name, p.annotation)) for p in params]


def returns(fn: Any) -> Any:
    return hints_of(fn).get("return", inspect.signature(fn).return_annotation)


@pytest.fixture(scope="module")
def remote() -> Iterator[RemoteBackend]:
    backend = RemoteBackend("http://127.0.0.1:9")  # never contacted: only inspected
    yield backend


def test_the_protocol_is_read() -> None:
    # Guard against a vacuous walk: every domain of the map is there, with its methods.
    assert {"auth", "health", "projects", "tasks", "agent_jobs", "tokenization", "notifications", "agents",
            "chat", "sessions", "review", "validation", "testing", "capability_gaps", "admin", "knowledge",
            "artifacts"} <= set(DOMAINS)
    assert len(OPERATIONS) >= len(ENDPOINTS) - 10  # a few endpoints are one method with options


def test_every_service_domain_is_a_backend_domain(services: Services) -> None:
    assert sorted(services.domains) == sorted(DOMAINS)


@pytest.mark.parametrize(("domain", "op"), OPERATIONS, ids=[f"{d}.{o}" for d, o in OPERATIONS])
def test_the_local_service_has_the_method_after_its_principal(services: Services, domain: str, op: str) -> None:
    declared = getattr(DOMAINS[domain], op)
    service = services.domains[domain]
    assert callable(getattr(service, op, None)), f"services.{domain} has no {op}"
    implemented = getattr(service, op)
    first = next(iter(inspect.signature(implemented).parameters.values()))
    assert first.name == "principal" and hints_of(implemented).get("principal", Principal) is Principal, \
        f"services.{domain}.{op} must take the principal first"
    params = shape(implemented, drop_first=1)
    extra = SERVER_ONLY.get((domain, op), set())
    assert [p for p in params if p[0] not in extra] == shape(declared, drop_first=1), f"{domain}.{op}"
    assert all(p[2] is not inspect.Parameter.empty for p in params if p[0] in extra)  # callers may omit them
    assert inspect.iscoroutinefunction(implemented) == inspect.iscoroutinefunction(declared) or \
        inspect.isasyncgenfunction(implemented), f"{domain}.{op}: async-ness differs"
    if hints_of(implemented) and hints_of(declared):
        assert returns(implemented) == returns(declared), f"{domain}.{op} returns another type"


@pytest.mark.parametrize(("domain", "op"), OPERATIONS, ids=[f"{d}.{o}" for d, o in OPERATIONS])
def test_the_remote_client_has_the_method_with_the_same_signature(remote: RemoteBackend, domain: str,
                                                                  op: str) -> None:
    declared = getattr(DOMAINS[domain], op)
    client = getattr(remote, domain)
    assert callable(getattr(client, op, None)), f"RemoteBackend.{domain} has no {op}"
    implemented = getattr(client, op)
    assert shape(implemented) == shape(declared, drop_first=1), f"{domain}.{op}"
    if hints_of(implemented) and hints_of(declared):
        assert returns(implemented) == returns(declared), f"{domain}.{op} returns another type"


def test_the_local_backend_binds_every_operation(services: Services) -> None:
    backend = LocalBackend(services, Principal.system(), owns_services=False)
    missing = [f"{d}.{o}" for d, o in OPERATIONS if not callable(getattr(getattr(backend, d), o, None))]
    assert missing == []


# ---- routes: the map's method, path and auth rule -------------------------------------------------

#: The dependency that carries each of the map's auth rules.
AUTH_OF_DEPENDENCY = {server_auth.admin_caller: "Admin", server_auth.jwt_caller: "JWT",
                      server_auth.caller: "API key", server_auth.anonymous_caller: "Public"}
STRENGTH = ["Public", "API key", "JWT", "Admin"]  # admin_caller depends on caller: the strictest wins


def walk_routes(routes: list[Any]) -> Iterator[Any]:
    """Every APIRoute, through the routers FastAPI wraps on include."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from walk_routes(list(included.routes))
        elif hasattr(route, "dependant"):
            yield route


def normal(path: str) -> str:
    """A path with its parameters unnamed: the map's ``{id}`` is a route's ``{task_id}``."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def auth_rule(dependant: Any) -> str:
    seen: set[str] = set()
    stack = list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call in AUTH_OF_DEPENDENCY:
            seen.add(AUTH_OF_DEPENDENCY[dep.call])
        stack.extend(dep.dependencies)
    return max(seen, key=STRENGTH.index) if seen else "Public"


@pytest.fixture
def route_table(services: Services) -> dict[tuple[str, str], str]:
    app = create_app(services)
    table: dict[tuple[str, str], str] = {}
    for route in walk_routes(list(app.routes)):
        for method in route.methods:
            table[(method, normal(route.path))] = auth_rule(route.dependant)
    return table


def test_the_route_walk_sees_the_api(route_table: dict[tuple[str, str], str]) -> None:
    assert len([k for k in route_table if k[1].startswith("/api/v1/")]) >= len(ENDPOINTS) - 10


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.path not in ("/openapi.json", "/docs")], ids=str)
def test_the_map_endpoint_is_served_with_its_auth_rule(route_table: dict[tuple[str, str], str],
                                                       endpoint: Endpoint) -> None:
    key = (endpoint.method, normal(endpoint.path))
    assert key in route_table, f"no route for {endpoint}"
    assert route_table[key] == endpoint.auth, endpoint
