"""Signing in from the CLI without a keyring (over SSH, in a container): the same
choices as the TUI's login screen — this session only, or the key printed once for
CREWOS_API_KEY — and a ``doctor`` that advises commands that work. Its own live
server: the login rate limit is per address and per server."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from crewos_tui import cli, secrets
from crewos_tui.config import load_config
from crewos_tui.launch import LaunchSpec

from .test_cli_accounts import PASSWORD, _key_names, _me, login, run, server

__all__ = ["server"]  # the live-server fixture, one per module


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """Every keyring call raises NoKeyringError (keyring's own fail backend)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    secrets._session.clear()
    yield
    keyring.set_keyring(previous)
    secrets._session.clear()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _as_terminal(monkeypatch: pytest.MonkeyPatch, answers: str) -> None:
    """A user at a terminal who answers ``answers`` (one per line) and types PASSWORD."""
    from crewos_tui import commands

    monkeypatch.setattr(commands, "_has_terminal", lambda: True)
    monkeypatch.setattr(commands.getpass, "getpass", lambda prompt="": PASSWORD)
    monkeypatch.setattr(sys, "stdin", _Terminal(answers))


def _opened_tui(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str | None, str | None]]]:
    """Stand in for the TUI: record the profile it would open and the key it would find."""
    from crewos_tui import app

    opened: list[tuple[str, tuple[str | None, str | None]]] = []

    def fake_run_app(spec: LaunchSpec) -> int:
        profile = spec.profile
        opened.append((profile, secrets.get_api_key(profile)))
        return 0

    monkeypatch.setattr(app, "run_app", fake_run_app)
    return opened


def test_login_session_without_keyring_opens_the_tui_with_the_key_in_memory(
        server: str, no_keyring: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    opened = _opened_tui(monkeypatch)
    _as_terminal(monkeypatch, "")
    code = cli.main(["login", server, "--profile", "ssh", "--username", "carol", "--session"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "kept for this session only" in out and "crewos_" not in out + err
    [(profile, (key, source))] = opened
    assert profile == "ssh" and source == "session" and key is not None
    assert asyncio.run(_me(server, key)) == "carol"
    assert load_config().profiles["ssh"].url == server
    assert "crewos_" not in Path(os.environ["CREWOS_TUI_CONFIG_DIR"], "config.toml").read_text()


def test_login_without_keyring_at_a_terminal_asks_where_the_key_goes(
        server: str, no_keyring: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    opened = _opened_tui(monkeypatch)
    _as_terminal(monkeypatch, "q\n")
    code = cli.main(["login", server, "--profile", "ask", "--username", "bob"])
    out, err = capsys.readouterr()
    assert code == 1 and "[s] kept for this session only" in out and "[p] printed once" in out
    assert "nothing was created" in err and opened == []

    _as_terminal(monkeypatch, "p\n")
    code = cli.main(["login", server, "--profile", "ask", "--username", "bob"])
    out, err = capsys.readouterr()
    assert code == 0, err
    [export] = [line for line in out.splitlines() if line.startswith("export CREWOS_API_KEY=")]
    assert asyncio.run(_me(server, export.split("=", 1)[1])) == "bob"

    _as_terminal(monkeypatch, "x\ns\n")  # a stray answer is asked again
    code = cli.main(["login", server, "--profile", "ask2", "--username", "bob"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.count("Choice [s/p/q]") == 2 and "kept for this session only" in out
    assert [(p, s) for p, (_k, s) in opened] == [("ask2", "session")]


def test_login_session_in_a_script_is_refused_before_anything_is_created(
        server: str, no_keyring: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = login(monkeypatch, capsys, server, "frank", "script", "--session")
    assert code == 1 and "--session opens the TUI" in err and "--print-key" in err
    assert asyncio.run(_key_names(server, "frank")) == []


def test_doctor_without_keyring_advises_commands_that_work(
        server: str, no_keyring: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from crewos_tui.config import upsert_profile

    upsert_profile("bare", mode="remote", url=server)
    code, out, _err = run(monkeypatch, capsys, "doctor")
    assert "UNUSABLE" in out
    assert "--session" in out and "--print-key" in out
    bare = next(line for line in out.splitlines() if line.startswith("profile 'bare'"))
    assert f"crewos-tui login {server} --profile bare --session" in bare
    assert f"crewos-tui login {server} --profile bare --print-key" in bare
    assert code == 1  # no keyring and no CREWOS_API_KEY is still a problem to fix
