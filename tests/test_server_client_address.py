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
from crewos_tui.backend.server.ratelimit import FailureThrottle, TrustedProxies
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


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_clients_failed_sign_ins_grow_its_wait_and_are_forgotten_after_a_quiet_hour() -> None:
    clock = Ticks()
    throttle = FailureThrottle(free=3, first=1.0, maximum=8.0, forget_after=60.0, clock=clock)
    assert [throttle.failed("a") for _ in range(2)] == [None, None]
    assert throttle.wait("a") is None
    assert throttle.failed("a") == 1.0  # the third failure starts the first wait
    assert throttle.wait("a") == 1.0 and throttle.wait("b") is None  # only that client waits
    clock.t += 1.0
    assert throttle.wait("a") is None
    assert [throttle.failed("a") for _ in range(4)] == [2.0, 4.0, 8.0, 8.0]  # doubling, capped
    clock.t += 59.9
    assert throttle.wait("a") is None  # the 8 s wait is over, but the count stays
    assert throttle.failed("a") == 8.0
    clock.t += 60.0
    assert throttle.wait("a") is None
    assert throttle.failed("a") is None  # a quiet hour later, a fresh start


async def test_login_failures_from_one_client_slow_it_down_whatever_account_it_tries(
    services: Services, make_user
) -> None:
    """Spraying many accounts from one address meets growing delays (429, refused before any
    password check, even the right one); a success does not wipe the record; another client
    behind the trusted proxy is not slowed by it."""
    user, password = await make_user()
    clock = Ticks()
    app = create_app(services, login_attempts_per_minute=1000, trusted_proxies=["127.0.0.1"],
                     login_failures=FailureThrottle(free=2, first=10.0, maximum=100.0, clock=clock))
    attacker = {"X-Forwarded-For": "203.0.113.50"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:

        async def login(name: str, secret: str, headers: dict[str, str] = attacker) -> httpx.Response:
            return await client.post("/api/v1/auth/login", json={"username": name, "password": secret},
                                     headers=headers)

        assert [(await login(n, "guess")).status_code for n in ("alice", "bob")] == [401, 401]
        refused = await login(user.username, password)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "10"
        assert refused.json()["detail"] == "too many failed sign-ins from this address; try again in 10 s"
        assert (await login(user.username, password, {"X-Forwarded-For": "198.51.100.1"})).status_code == 200
        clock.t += 10
        assert (await login(user.username, password)).status_code == 200  # the wait is over
        assert (await login("carol", "guess")).status_code == 401
        # The success did not reset the count: this third failure doubled the wait.
        assert (await login("carol", "guess")).json()["detail"].endswith("try again in 20 s")
