"""Contract-test worlds: the same tests run against LocalBackend and against
RemoteBackend talking to a live server on 127.0.0.1.

The live server is the real FastAPI app under uvicorn, in its own thread and
event loop, serving a SQLite file. Test setup (creating users, proposing folder
updates) goes through a second service layer on the same file, the way
``crewos-tui users add`` works on a served data dir.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from crewos_tui.backend.local.backend import LocalBackend
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import UserInfo

from ..conftest import PASSWORD, api_key_of, fast_settings, user_factory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving create_app(services) on a free loopback port, in a thread."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, name="crewos-live-server", daemon=True)
        self._failed: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._failed = exc

    async def _serve(self) -> None:
        import uvicorn

        from crewos_tui.backend.server.app import create_app
        from crewos_tui.backend.server.ratelimit import FailureThrottle

        services = await Services.open(self.db_path, settings=fast_settings())
        # Every contract test signs in from 127.0.0.1, some with wrong passwords on purpose:
        # the per-client limits would make one test's failures another's 429.
        app = create_app(services, login_attempts_per_minute=100_000, login_failures=FailureThrottle(free=100_000))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        try:
            await self._server.serve()
        finally:
            await services.close()

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._failed:
                raise RuntimeError("live server failed to start") from self._failed
            try:
                if httpx.get(self.url + "/health/live", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("live server did not answer within 20 s")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # The server creates the schema; start() returns once it answers.
    server = LiveServer(tmp_path_factory.mktemp("served") / "crewos.db")
    server.start()
    yield server
    server.stop()


@dataclass
class World:
    """One backend kind, with helpers to make users and act as them."""

    kind: str  # "local" | "remote"
    services: Services  # setup and inspection: the same database the backend uses
    url: str | None = None
    _open: list[Any] = field(default_factory=list)

    async def user(self, role: str = "member", team: str = "default", username: str | None = None) -> UserInfo:
        info, _ = await user_factory(self.services)(username=username, role=role, team=team)
        return info

    async def as_(self, user: UserInfo, scopes: list[str] | None = None) -> Any:
        """The user through an API key (what automation and the TUI's remote mode use)."""
        key = await api_key_of(self.services, user, scopes)
        if self.kind == "local":
            return LocalBackend(self.services, await self.services.auth.authenticate_api_key(key),
                                owns_services=False)
        from crewos_tui.backend.remote import RemoteBackend

        backend = RemoteBackend(self.url, key)
        self._open.append(backend)
        return backend

    async def interactive(self, user: UserInfo) -> Any:
        """The user signed in with a password (JWT): may manage API keys."""
        if self.kind == "local":
            return LocalBackend(self.services, await self.services.auth.principal_for(user.username),
                                owns_services=False)
        from crewos_tui.backend.remote import RemoteBackend

        anon = self.anonymous()
        pair = await anon.auth.login(user.username, PASSWORD)
        backend = RemoteBackend(self.url, access_token=pair.access_token)
        self._open.append(backend)
        return backend

    def anonymous(self) -> Any:
        if self.kind == "local":
            return LocalBackend(self.services, Principal.anonymous(), owns_services=False)
        from crewos_tui.backend.remote import RemoteBackend

        backend = RemoteBackend(self.url)
        self._open.append(backend)
        return backend

    async def close(self) -> None:
        for b in self._open:
            await b.close()


@pytest.fixture(params=["local", "remote"])
async def world(request: pytest.FixtureRequest, fresh_db: Path) -> AsyncIterator[World]:
    if request.param == "local":
        svc = await Services.open(fresh_db, settings=fast_settings())
        w = World("local", svc)
    else:
        server = request.getfixturevalue("live_server")
        svc = await Services.open(server.db_path, settings=fast_settings())
        w = World("remote", svc, url=server.url)
    try:
        yield w
    finally:
        await w.close()
        await svc.close()
