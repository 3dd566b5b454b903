"""login / logout / profiles / doctor against a live ``crewos-tui serve`` on 127.0.0.1.

The server runs as a subprocess; the commands run in this process through
``cli.main`` so the in-memory keyring set here is the one they use.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from crewos_tui import cli, connect, secrets
from crewos_tui.backend.errors import Unauthorized
from crewos_tui.backend.remote import RemoteBackend
from crewos_tui.config import load_config, resolve_launch

PASSWORD = "correct horse battery"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank")


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crewos_tui.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)


async def _add_users(data: Path, usernames: tuple[str, ...]) -> None:
    from crewos_tui.backend.principal import Principal
    from crewos_tui.backend.schemas import UserCreate
    from crewos_tui.backend.serve import open_data_dir

    services = await open_data_dir(data)
    try:
        for name in usernames:
            await services.auth.create_user(Principal.system(), UserCreate(username=name, password=PASSWORD))
    finally:
        await services.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server on a free loopback port with users USERS (password PASSWORD)."""
    root = tmp_path_factory.mktemp("served")
    data = root / "data"
    env = dict(os.environ)
    env.update(
        CREWOS_TUI_CONFIG_DIR=str(root / "config"),
        CREWOS_TUI_DATA_DIR=str(data),
        CREWOS_ADMIN_PASSWORD="admin password for tests",  # no generated password printed
        CREWOS_JWT_SECRET="test-secret-" + "x" * 32,
    )
    env.pop("CREWOS_API_KEY", None)
    # The first user through the documented command; the rest in-process (each CLI
    # start costs seconds, and they go to the same database either way).
    made = _cli("users", "add", USERS[0], "--password-stdin", "--data-dir", str(data), env=env,
                stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    asyncio.run(_add_users(data, USERS[1:]))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crewos_tui.cli", "serve", "--port", str(port), "--data-dir", str(data)],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"crewos-tui serve exited: {(root / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"crewos-tui serve not ready in 60 s: {(root / 'serve.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    secrets._session.clear()
    yield kr
    keyring.set_keyring(previous)
    secrets._session.clear()


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def login(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, user: str,
          profile: str, *extra: str) -> tuple[int, str, str]:
    return run(monkeypatch, capsys, "login", url, "--profile", profile, "--username", user, "--password-stdin",
               *extra, stdin=PASSWORD + "\n")


async def _key_names(url: str, user: str) -> list[str]:
    async with RemoteBackend(url) as backend:
        await backend.auth.login(user, PASSWORD)
        page = await backend.auth.list_api_keys(limit=100)
        await backend.auth.logout()
        return [k.name for k in page.items if k.revoked_at is None]


async def _me(url: str, key: str) -> str:
    async with RemoteBackend(url, key, max_tries=1) as backend:
        return (await backend.auth.me()).username


def test_login_stores_a_key_the_profile_then_uses(server: str, memory_keyring: MemoryKeyring,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = login(monkeypatch, capsys, server, "alice", "srv")
    assert code == 0, err
    key = memory_keyring.entries[("crewos-tui", "srv")]
    assert key.startswith("crewos_")
    assert key not in out and key not in err  # never printed when the keyring holds it
    assert "OS keyring" in out and "crewos-tui --profile srv" in out

    profile = load_config().profiles["srv"]
    assert (profile.mode, profile.url, profile.username) == ("remote", server, "alice")
    assert "crewos_" not in Path(os.environ["CREWOS_TUI_CONFIG_DIR"], "config.toml").read_text()

    # `crewos-tui --profile srv` opens the server with the stored key.
    spec = resolve_launch(cli.build_parser().parse_args(["--profile", "srv"]))
    assert (spec.mode, spec.url) == ("remote", server)

    async def open_and_ask() -> tuple[str, str | None]:
        conn = await connect.open_backend(spec)
        try:
            return (await conn.backend.auth.me()).username, conn.key_source
        finally:
            await conn.backend.close()

    assert asyncio.run(open_and_ask()) == ("alice", "keyring")
    names = asyncio.run(_key_names(server, "alice"))
    assert names == [f"crewos-tui@{socket.gethostname()}"]


def test_second_login_gets_a_suffixed_key_name(server: str, memory_keyring: MemoryKeyring,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert login(monkeypatch, capsys, server, "bob", "one")[0] == 0
    code, _out, err = login(monkeypatch, capsys, server, "bob", "two")
    assert code == 0, err
    names = sorted(asyncio.run(_key_names(server, "bob")))
    base = f"crewos-tui@{socket.gethostname()}"
    assert names[0] == base and names[1].startswith(base + " ") and len(names) == 2
    keys = {memory_keyring.entries[("crewos-tui", p)] for p in ("one", "two")}
    assert len(keys) == 2


def test_wrong_password_is_one_line_and_saves_nothing(server: str, memory_keyring: MemoryKeyring,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(monkeypatch, capsys, "login", server, "--profile", "bad", "--username", "carol",
                         "--password-stdin", stdin="wrong password\n")
    assert code == 1
    assert err.startswith("crewos-tui: ") and err.count("\n") == 1 and "Traceback" not in err
    assert memory_keyring.entries == {}
    assert "bad" not in load_config().profiles


def test_unreachable_server_is_one_line(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    code, _out, err = login(monkeypatch, capsys, url, "carol", "gone")
    assert code == 1
    assert err.startswith("crewos-tui: cannot reach") and err.count("\n") == 1


def test_login_without_keyring_creates_nothing_then_print_key(server: str, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        code, out, err = login(monkeypatch, capsys, server, "dave", "nokeyring")
        assert code == 1
        assert "no usable OS keyring" in err and "CREWOS_API_KEY" in err and "--print-key" in err
        assert f"crewos-tui login {server} --profile nokeyring --session" in err
        assert asyncio.run(_key_names(server, "dave")) == []  # no orphan key on the server

        code, out, err = login(monkeypatch, capsys, server, "dave", "nokeyring", "--print-key")
        assert code == 0, err
        exports = [line for line in out.splitlines() if line.startswith("export CREWOS_API_KEY=")]
        assert len(exports) == 1
        key = exports[0].split("=", 1)[1]
        assert out.count(key) == 1
        assert load_config().profiles["nokeyring"].url == server

        monkeypatch.setenv("CREWOS_API_KEY", key)
        spec = resolve_launch(cli.build_parser().parse_args(["--profile", "nokeyring"]))

        async def open_and_ask() -> tuple[str, str | None]:
            conn = await connect.open_backend(spec)
            try:
                return (await conn.backend.auth.me()).username, conn.key_source
            finally:
                await conn.backend.close()

        assert asyncio.run(open_and_ask()) == ("dave", "env")
    finally:
        keyring.set_keyring(previous)


def test_profiles_lists_modes_and_key_sources(server: str, memory_keyring: MemoryKeyring,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(monkeypatch, capsys, "profiles")
    assert code == 0 and "no profiles yet" in out
    resolve_launch(cli.build_parser().parse_args([]))  # first run: the local profile
    assert login(monkeypatch, capsys, server, "erin", "srv")[0] == 0
    from crewos_tui.config import upsert_profile

    upsert_profile("nokey", mode="remote", url="https://crewos.example.com")
    code, out, _err = run(monkeypatch, capsys, "profiles")
    assert code == 0
    rows = {line.split()[1] if line.startswith("*") else line.split()[0]: line for line in out.splitlines()}
    assert rows["local"].startswith("*") and " local " in rows["local"]
    assert server in rows["srv"] and rows["srv"].rstrip().endswith("keyring")
    assert rows["nokey"].rstrip().endswith("none")

    monkeypatch.setenv("CREWOS_API_KEY", "crewos_x_y")
    _code, out, _err = run(monkeypatch, capsys, "profiles")
    assert next(line for line in out.splitlines() if " srv " in line).rstrip().endswith("env")


def test_doctor_reports_paths_keyring_and_servers(server: str, memory_keyring: MemoryKeyring,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert login(monkeypatch, capsys, server, "frank", "srv")[0] == 0
    code, out, err = run(monkeypatch, capsys, "doctor")
    assert code == 0, out + err
    assert os.environ["CREWOS_TUI_CONFIG_DIR"] in out and os.environ["CREWOS_TUI_DATA_DIR"] in out
    assert "MemoryKeyring: works" in out
    assert memory_keyring.entries.keys() == {("crewos-tui", "srv")}  # the probe entry is gone
    srv = next(line for line in out.splitlines() if line.startswith("profile 'srv'"))
    assert "server ready, version" in srv and "keyring key works (user frank" in srv

    from crewos_tui.config import upsert_profile

    upsert_profile("gone", mode="remote", url=f"http://127.0.0.1:{_free_port()}")
    code, out, _err = run(monkeypatch, capsys, "doctor")
    assert code == 1
    assert "profile 'gone'" in out and "NOT READY" in out and "1 problem(s) found" in out

    path = Path(os.environ["CREWOS_TUI_CONFIG_DIR"], "config.toml")
    path.write_text(path.read_text() + "\n[profiles.broken\n")
    code, out, _err = run(monkeypatch, capsys, "doctor")
    assert code == 1 and "INVALID" in out and str(path) in out


def test_logout_forgets_the_key_and_revoke_kills_it(server: str, memory_keyring: MemoryKeyring,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert login(monkeypatch, capsys, server, "alice", "a1")[0] == 0
    key1 = memory_keyring.entries[("crewos-tui", "a1")]
    code, out, err = run(monkeypatch, capsys, "logout", "--profile", "a1")
    assert code == 0, err
    assert ("crewos-tui", "a1") not in memory_keyring.entries
    assert "stays valid" in out and "--revoke" in out
    assert asyncio.run(_me(server, key1)) == "alice"  # as documented: still valid on the server

    assert login(monkeypatch, capsys, server, "alice", "a2")[0] == 0
    key2 = memory_keyring.entries[("crewos-tui", "a2")]
    code, out, err = run(monkeypatch, capsys, "logout", "--profile", "a2", "--revoke", "--password-stdin",
                         stdin=PASSWORD + "\n")
    assert code == 0, err
    assert ("crewos-tui", "a2") not in memory_keyring.entries
    assert "revoked key" in out
    with pytest.raises(Unauthorized):
        asyncio.run(_me(server, key2))
    assert asyncio.run(_me(server, key1)) == "alice"  # only the stored key was revoked

    code, out, _err = run(monkeypatch, capsys, "logout", "--profile", "a2")
    assert code == 0 and "had no stored API key" in out


def test_logout_of_unknown_or_local_profile(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(monkeypatch, capsys, "logout", "--profile", "nope")
    assert code == 1 and err.startswith("crewos-tui: unknown profile 'nope'")
    resolve_launch(cli.build_parser().parse_args([]))
    code, _out, err = run(monkeypatch, capsys, "logout", "--profile", "local")
    assert code == 1 and "is local" in err


def test_login_again_to_the_same_profile_revokes_the_replaced_key(server: str, memory_keyring: MemoryKeyring,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert login(monkeypatch, capsys, server, "carol", "again")[0] == 0
    old = memory_keyring.entries[("crewos-tui", "again")]
    code, out, err = login(monkeypatch, capsys, server, "carol", "again")
    assert code == 0, err
    new = memory_keyring.entries[("crewos-tui", "again")]
    assert new != old and "revoked the profile's previous key" in out
    assert asyncio.run(_me(server, new)) == "carol"
    with pytest.raises(Unauthorized):
        asyncio.run(_me(server, old))


def test_logout_leaves_crewos_api_key_alone(server: str, memory_keyring: MemoryKeyring,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = login(monkeypatch, capsys, server, "erin", "envcase")
    assert code == 0
    stored = memory_keyring.entries[("crewos-tui", "envcase")]
    code, out, _err = login(monkeypatch, capsys, server, "erin", "other", "--print-key")
    env_key = next(line for line in out.splitlines() if line.startswith("export ")).split("=", 1)[1]
    monkeypatch.setenv("CREWOS_API_KEY", env_key)

    code, out, err = run(monkeypatch, capsys, "logout", "--profile", "envcase", "--revoke", "--password-stdin",
                         stdin=PASSWORD + "\n")
    assert code == 0, err
    assert "CREWOS_API_KEY is set" in out
    with pytest.raises(Unauthorized):
        asyncio.run(_me(server, stored))  # the stored key was the one revoked
    assert asyncio.run(_me(server, env_key)) == "erin"  # the user's own env key lives on

