"""Whose login attempts the per-client limit counts: the direct peer, and the client in
``X-Forwarded-For`` only when the peer is a proxy the operator trusts
(``crewos-tui serve --trusted-proxy``, ``CREWOS_TRUSTED_PROXIES``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from crewos_tui.backend import serve
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.server.app import LOGIN_ATTEMPTS_PER_MINUTE, create_app
from crewos_tui.backend.server.ratelimit import TrustedProxies
from crewos_tui.cli import build_parser

ATTEMPT = {"username": "nobody", "password": "wrong password"}


async def statuses(app: Any, forwarded_for: list[str]) -> list[int]:
    """One login attempt per header value; httpx's ASGITransport is peer 127.0.0.1."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        return [(await client.post("/api/v1/auth/login", json=ATTEMPT, headers={"X-Forwarded-For": f})).status_code
                for f in forwarded_for]


def rotating(n: int) -> list[str]:
    return [f"203.0.113.{i}" for i in range(n)]


async def test_without_a_trusted_proxy_rotating_the_header_does_not_escape_the_limit(services: Services) -> None:
    app = create_app(services, login_attempts_per_minute=3)
    assert await statuses(app, rotating(5)) == [401, 401, 401, 429, 429]


async def test_a_trusted_proxy_names_the_client_and_a_spoofed_prefix_changes_nothing(services: Services) -> None:
    app = create_app(services, login_attempts_per_minute=3, trusted_proxies=["127.0.0.1"])
    # The proxy appends the address it saw; what the client wrote itself stays on the left.
    spoofed = [f"{fake}, 198.51.100.7" for fake in rotating(4)]
    assert await statuses(app, spoofed) == [401, 401, 401, 429]
    assert await statuses(app, ["198.51.100.8"]) == [401]  # another real client has its own budget


async def test_serve_hands_uvicorn_an_app_that_ignores_forwarded_for_from_loopback(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's own proxy headers believe X-Forwarded-For from any loopback peer: the
    app `serve` runs must get each attempt counted against the real peer anyway."""
    import uvicorn

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app, kw=kw))
    monkeypatch.delenv(serve.TRUSTED_PROXIES_ENV, raising=False)
    args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path)])
    assert args.handler(args) == 0
    config = uvicorn.Config(ran["app"], **ran["kw"])
    config.load()  # wraps the app the way the real server does
    ran["app"].state.services = services  # instead of the lifespan opening the data dir
    got = await statuses(config.loaded_app, rotating(LOGIN_ATTEMPTS_PER_MINUTE + 2))
    assert got[-2:] == [429, 429]


def test_trusted_proxies_come_from_the_flag_or_else_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app))

    def trusted(*flags: str) -> TrustedProxies:
        args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path), *flags])
        assert args.handler(args) == 0
        return ran["app"].state.trusted_proxies

    monkeypatch.setenv(serve.TRUSTED_PROXIES_ENV, "192.0.2.1, 192.0.2.2")
    from_env = trusted()
    assert from_env.trusts("192.0.2.2") and not from_env.trusts("127.0.0.1")
    from_flags = trusted("--trusted-proxy", "10.0.0.1", "--trusted-proxy", "10.1.0.0/16,::1")
    assert all(from_flags.trusts(ip) for ip in ("10.0.0.1", "10.1.2.3", "::1"))
    assert not from_flags.trusts("192.0.2.1")  # the flag replaces the environment


def test_a_bad_trusted_proxy_is_refused_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: pytest.fail("served with a bad --trusted-proxy"))
    args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path), "--trusted-proxy", "proxy.local"])
    assert args.handler(args) == 2
    assert "not an IP address or network: 'proxy.local'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.0.1", [], "127.0.0.1"),  # trusted peer, no header: the peer
        ("192.0.2.9", ["203.0.113.1"], "192.0.2.9"),  # untrusted peer: the header is ignored
        ("127.0.0.1", ["203.0.113.1"], "203.0.113.1"),
        ("127.0.0.1", ["1.1.1.1, 203.0.113.1"], "203.0.113.1"),  # right-most, not the client's own claim
        ("127.0.0.1", ["1.1.1.1, 203.0.113.1, 10.0.0.2"], "203.0.113.1"),  # through two trusted proxies
        ("127.0.0.1", ["1.1.1.1", "203.0.113.1"], "203.0.113.1"),  # two header lines are one list
        ("127.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),  # every hop trusted: the first one
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(peer: str, forwarded: list[str], client: str) -> None:
    assert TrustedProxies(["127.0.0.1", "10.0.0.0/8"]).client(peer, forwarded) == client
