"""The login screen and key rotation, end to end against the real server app
(in process, over httpx's ASGI transport) with an in-memory keyring."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend
from textual.pilot import Pilot
from textual.widgets import Input

from crewos_tui import secrets
from crewos_tui.backend import remote
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.server.app import create_app
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.account import AccountScreen
from crewos_tui.screens.login import LoginScreen
from crewos_tui.screens.projects import ProjectsScreen

from .app_support import make_app, settle
from .conftest import PASSWORD, UserFactory

URL = "http://crewos.test"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    monkeypatch.setattr(secrets, "_session", {})
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setattr(secrets, "_session", {})
    yield
    keyring.set_keyring(previous)


def route_remote(monkeypatch: pytest.MonkeyPatch, transport: httpx.AsyncBaseTransport) -> None:
    """Every RemoteBackend the app makes (login, connect, rotation) talks to ``transport``."""

    class Routed(remote.RemoteBackend):
        def __init__(self, base_url: str, *args: Any, **kw: Any) -> None:
            kw["transport"] = transport
            super().__init__(base_url, *args, **kw)

    monkeypatch.setattr(remote, "RemoteBackend", Routed)


@pytest.fixture
async def server(services: Services, make_user: UserFactory,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    await make_user("maya", role="admin")
    route_remote(monkeypatch, httpx.ASGITransport(app=create_app(services)))
    yield services


def remote_spec(profile: str = "work") -> LaunchSpec:
    return LaunchSpec(profile=profile, mode="remote", url=URL, username="maya")


async def sign_in(pilot: Pilot[Any], password: str) -> LoginScreen:
    screen = pilot.app.screen
    assert isinstance(screen, LoginScreen)
    assert pilot.app.focused is screen.query_one("#login-password")
    await pilot.press(*password.split(" ")[0])  # typed, as a user would (the first word)
    screen.query_one("#login-password", Input).value = password
    await pilot.press("enter")
    await settle(pilot)
    return screen


def error_of(screen: LoginScreen) -> str:
    return str(screen.query_one("#login-error").render())


async def _keys(services: Services) -> list[Any]:
    from sqlalchemy import select

    from crewos_tui.backend.local.tables import ApiKeyRow

    async with services.ctx.db.read() as s:
        return list((await s.execute(select(ApiKeyRow))).scalars())


async def test_no_key_opens_the_login_screen_and_a_login_stores_one(
    server: Services, memory_keyring: MemoryKeyring
) -> None:
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.session is not None and app.session.health == "signed-out"
        await sign_in(pilot, PASSWORD)
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        key = memory_keyring.store[("crewos-tui", "work")]
        assert key.startswith("crewos_")
        s = app.session
        assert (s.username, s.health, s.key_source, s.badge) == ("maya", "online", "keyring", "REMOTE")
        rows = await _keys(server)
        assert [r.name.startswith("crewos-tui@") for r in rows] == [True]
        # The password session is over: its refresh tokens are revoked.
        from sqlalchemy import select

        from crewos_tui.backend.local.tables import RefreshTokenRow

        async with server.ctx.db.read() as db:
            tokens = list((await db.execute(select(RefreshTokenRow))).scalars())
        assert tokens and all(t.revoked_at is not None for t in tokens)
        # The profile now names the server, so a later `--profile work` finds it.
        from crewos_tui.config import load_config

        assert load_config().profiles["work"].url == URL


async def test_wrong_password_is_shown_inline(server: Services, memory_keyring: MemoryKeyring) -> None:
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await sign_in(pilot, "not the password")
        assert app.screen is screen
        assert "invalid username or password" in error_of(screen)
        assert memory_keyring.store == {}
        assert await _keys(server) == []


async def test_throttled_account_is_shown_as_a_wrong_password(server: Services,
                                                              memory_keyring: MemoryKeyring) -> None:
    from crewos_tui.backend.errors import CrewOSError
    from crewos_tui.backend.principal import Principal

    for _ in range(server.ctx.settings.max_failed_logins):
        with pytest.raises(CrewOSError):
            await server.auth.login(Principal.anonymous(), "maya", "wrong")
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await sign_in(pilot, PASSWORD)  # the right password, during the wait
        assert "invalid username or password" in error_of(screen)
        assert "locked" not in error_of(screen) and "maya" not in error_of(screen)


async def test_unreachable_server_is_shown_inline(monkeypatch: pytest.MonkeyPatch,
                                                  memory_keyring: MemoryKeyring) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    route_remote(monkeypatch, httpx.MockTransport(refuse))
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await sign_in(pilot, PASSWORD)
        assert "cannot reach" in error_of(screen)


async def test_refused_key_goes_back_to_login(server: Services, memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[("crewos-tui", "work")] = "crewos_nothing_valid"
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "refused" in str(app.screen.query_one("#login-reason").render())


async def test_no_keyring_offers_this_session_only(server: Services, no_keyring: None) -> None:
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await sign_in(pilot, PASSWORD)
        assert app.screen is screen
        message = str(screen.query_one("#keyring-message").render())
        assert "no usable OS keyring" in message and "CREWOS_API_KEY" in message
        await pilot.click("#keep-session")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert app.session is not None and app.session.key_source == "session"
        assert "work" in secrets._session


async def test_no_keyring_cancel_revokes_the_new_key(server: Services, no_keyring: None) -> None:
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await sign_in(pilot, PASSWORD)
        await pilot.click("#cancel-key")
        await settle(pilot)
        assert app.screen is screen and "no key was kept" in error_of(screen)
        rows = await _keys(server)
        assert len(rows) == 1 and rows[0].revoked_at is not None
        assert secrets._session == {}


async def test_rotate_key_from_the_account_screen(server: Services, memory_keyring: MemoryKeyring) -> None:
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await sign_in(pilot, PASSWORD)
        await settle(pilot)
        old = memory_keyring.store[("crewos-tui", "work")]
        await pilot.press("A")
        assert isinstance(app.screen, AccountScreen)
        app.screen.query_one("#rotate-password", Input).value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        new = memory_keyring.store[("crewos-tui", "work")]
        assert new != old
        assert isinstance(app.screen, ProjectsScreen) and app.session.health == "online"  # type: ignore[union-attr]
        rows = {r.prefix: r for r in await _keys(server)}
        assert rows[old.split("_")[1]].revoked_at is not None
        assert rows[new.split("_")[1]].revoked_at is None
        assert getattr(app.backend, "api_key", None) == new


@pytest.mark.parametrize(("source", "panel", "bar"), [
    ("keyring", "API key   in the OS keyring", "key:keyring"),
    ("session", "API key   kept for this session", "key:session only"),
    ("env", "API key   from CREWOS_API_KEY", "key:CREWOS_API_KEY"),
])
async def test_account_panel_says_where_the_key_really_is(
        server: Services, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
        source: str, panel: str, bar: str) -> None:
    from crewos_tui.backend.schemas import ApiKeyCreate
    from crewos_tui.widgets.status_bar import StatusBar

    principal = await server.auth.principal_for("maya")
    key = (await server.auth.create_api_key(principal, ApiKeyCreate(name="panel test"))).key
    if source == "keyring":
        memory_keyring.store[("crewos-tui", "work")] = key
    elif source == "session":
        secrets.remember_for_session("work", key)
    else:
        monkeypatch.setenv("CREWOS_API_KEY", key)
    app = make_app(remote_spec())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen) and app.key_source == source
        bar_text = str(app.screen.query_one(StatusBar).render())
        assert bar in bar_text
        await pilot.press("A")
        assert isinstance(app.screen, AccountScreen)
        facts = str(app.screen.query_one("#account-facts").render())
        assert panel in facts
        assert "from the " not in facts
