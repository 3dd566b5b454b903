"""Shared fixtures: an isolated environment, a service layer on a real SQLite file,
users and API keys, and both backends for the contract tests."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

from crewos_tui.backend.ids import Clock
from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ApiKeyCreate, UserCreate, UserInfo
from crewos_tui.launch import LaunchSpec

# Property tests check behaviour, never speed: no per-example deadline (hypothesis's
# default 200 ms fails examples on a loaded CI machine, not the code).
_hypothesis_settings.register_profile("crewos", deadline=None)
_hypothesis_settings.load_profile("crewos")

class ManualClock(Clock):
    """A clock that stands still until the test moves it: a delay or a lease runs out when
    the test says so, never because a loaded machine was slow. No test sleeps for time."""

    def __init__(self) -> None:
        self.t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


FAST_SCRYPT = 2**4  # real scrypt, tiny cost: keeps the suite fast
PASSWORD = "correct horse battery"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user's config, data or keyring."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CREWOS_TUI_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("CREWOS_TUI_DATA_DIR", str(home / "data"))
    monkeypatch.delenv("CREWOS_API_KEY", raising=False)
    # The same colours on every machine: a 16-colour TERM (TERM=xterm, or none in CI) would
    # make the app pick an ANSI theme (themes.py) and every snapshot would differ.
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)
    # No desktop notification or title change reaches the terminal running the tests
    # (attention.py); the tests of it switch it back on.
    monkeypatch.setenv("CREWOS_TUI_DESKTOP_NOTIFICATIONS", "0")
    return home


#: The first sign-in wait in tests: long enough that a loaded machine cannot outrun it
#: (the live server runs on the real clock); tests that watch it end use their own clock.
TEST_LOGIN_DELAY = timedelta(minutes=5)


def fast_settings(**kw: object) -> Settings:
    kw.setdefault("login_delay_first", TEST_LOGIN_DELAY)
    return Settings(scrypt_n=FAST_SCRYPT, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at today's schema, built once per test process: each test copies
    it (~10 ms) instead of creating every table again (~300 ms)."""
    path = tmp_path_factory.mktemp("schema-template") / "crewos.db"

    async def build() -> None:
        await (await Services.open(path, settings=fast_settings())).close()

    run_apart(build())
    return path


def run_apart(coro: Awaitable[object]) -> None:
    """Run ``coro`` to the end on an event loop of its own, in a thread of its own: a
    session fixture may first be asked for by a test whose loop is already running."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()  # type: ignore[arg-type]


def copy_database(template: Path, target: Path) -> Path:
    """``template`` (with its WAL files, if any) copied to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(template) + suffix)
        if src.exists():
            shutil.copy(src, str(target) + suffix)
    return target


@pytest.fixture
def fresh_db(schema_template: Path, tmp_path: Path) -> Path:
    """A migrated, empty database file of this test's own."""
    return copy_database(schema_template, tmp_path / "crewos.db")


@pytest.fixture
async def services(fresh_db: Path) -> AsyncIterator[Services]:
    svc = await Services.open(fresh_db, settings=fast_settings())
    yield svc
    await svc.close()


_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}x{next(_counter)}"


UserFactory = Callable[..., Awaitable[tuple[UserInfo, str]]]


def user_factory(svc: Services) -> UserFactory:
    async def make(username: str | None = None, role: str = "member", team: str = "default",
                   grants: list[str] | None = None) -> tuple[UserInfo, str]:
        info = await svc.auth.create_user(
            Principal.system(),
            UserCreate(username=username or unique("user"), password=PASSWORD, role=role, team=team,
                       namespace_grants=grants or []),
        )
        return info, PASSWORD

    return make


@pytest.fixture
def make_user(services: Services) -> UserFactory:
    return user_factory(services)


async def principal_of(svc: Services, user: UserInfo) -> Principal:
    return await svc.auth.principal_for(user.username)


async def api_key_of(svc: Services, user: UserInfo, scopes: list[str] | None = None) -> str:
    p = await principal_of(svc, user)
    created = await svc.auth.create_api_key(p, ApiKeyCreate(name=unique("key"), scopes=scopes))
    return created.key


@pytest.fixture
def api_key_for(services: Services) -> Callable[..., Awaitable[str]]:
    async def make(user: UserInfo, scopes: list[str] | None = None) -> str:
        return await api_key_of(services, user, scopes)

    return make


# --- The demo workspace, for the app tests -----------------------------------------
# Fixtures live here, not in app_support.py: pytest finds them by name, no test module
# imports them. The helpers (make_app, settle, Notes) stay in app_support.py,
# imported lazily so tests that never open the app do not load Textual.


#: The "now" every test seeds the demo workspace at (a real run seeds at the real time):
#: its history runs from 2026-03-02 09:00 to 2026-03-09 19:16 UTC, the dates the
#: snapshots show, whatever day the suite runs.
DEMO_NOW = datetime(2026, 3, 9, 19, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, seeded once (with a tiny scrypt cost) at ``DEMO_NOW``."""
    from crewos_tui.backend.local.demo import seed_demo

    path = tmp_path_factory.mktemp("demo-template") / "demo.db"
    run_apart(seed_demo(path, settings=Settings(scrypt_n=FAST_SCRYPT), now=DEMO_NOW))
    return path


@pytest.fixture
def demo_spec(demo_template: Path, tmp_path: Path) -> LaunchSpec:
    """A demo-mode launch on this test's own copy of the demo workspace."""
    from crewos_tui import paths

    data = tmp_path / "data"
    copy_database(demo_template, paths.database_file(data, demo=True))
    return LaunchSpec(profile="demo", mode="local", demo=True, data_dir=data)


# ---- markers by kind of test ---------------------------------------------------------------

#: Test modules that take seconds each on their own: a developer's quick run leaves them out
#: (``pytest -m "not app and not slow"``).
SLOW_MODULES = {"test_board_bench.py", "test_knowledge_bench.py", "test_ledger_bench.py",
                "test_notifications_bench.py", "test_properties.py", "test_tokens_properties.py",
                "test_audit_export.py",  # 100,000 audit events, twice
                "test_cli_accounts.py",  # a real `crewos-tui serve` in a subprocess
                "test_crash_safety.py",  # a writer SIGKILLed 24 times
                "test_two_processes_live.py",  # `crewos-tui serve` and a local writer, 300 writes each
                "test_cli_db_errors.py", "test_durability_bench.py",
                "test_faults.py",  # a served workspace behind a fault proxy: stalls wait their limits
                "test_schemathesis.py"}  # every operation, twice, against a live server
#: Single tests that take seconds: every built-in agent answering twice on the demo data,
#: a remote board waiting for two of its refresh intervals.
SLOW_TESTS = {"test_builtin_answers_are_deterministic_on_demo_data", "test_the_remote_board_refreshes_on_an_interval"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``app`` for Pilot tests, ``snapshot`` for screenshot comparisons, ``slow`` for the
    modules above; ``pty`` and ``keyring_os`` are set by their modules."""
    for item in items:
        name = item.path.name
        if name.startswith("test_app_"):
            item.add_marker(pytest.mark.app)
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.snapshot)
        if name in SLOW_MODULES or getattr(item, "originalname", item.name) in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
