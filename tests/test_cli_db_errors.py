"""``crewos-tui serve`` and ``crewos-tui users ...`` on a database that cannot be used: one
``crewos-tui: database <file>: ...`` line on stderr and exit code 1, never a traceback.
In process through ``cli.main`` for every fault, and as real subprocesses for a damaged
file (what an operator sees)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crewos_tui import cli

from .db_faults import FAULTS, break_database, read_only

PASSWORD_STDIN = "a long enough password\n"


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("crewos-tui: ") and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], (word, err)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_users_list_and_serve_refuse_an_unusable_database_in_one_line(
        fresh_db: Path, fault: str, capsys: pytest.CaptureFixture[str]):
    data = fresh_db.parent
    break_database(fresh_db, fault)
    code, out, err = _main(capsys, "users", "list", "--data-dir", str(data))
    assert code == 1 and out == ""
    assert_one_line(err, f"users list: database {fresh_db}:", FAULTS[fault])
    # serve opens the database before it listens: the same line, and no server started.
    code, out, err = _main(capsys, "serve", "--data-dir", str(data), "--port", "9")
    assert code == 1
    assert_one_line(err, f"database {fresh_db}:", FAULTS[fault])
    assert "serving" not in err


def test_a_read_only_data_dir_stops_users_and_serve_in_one_line(fresh_db: Path, capsys: pytest.CaptureFixture[str]):
    data = fresh_db.parent
    with read_only(data):
        for args in (("users", "list"), ("serve", "--port", "9")):
            code, _out, err = _main(capsys, *args, "--data-dir", str(data))
            assert code == 1
            assert_one_line(err, str(fresh_db), f"its folder {data} is read-only")
            assert "unable to open database file" not in err


def test_a_read_only_database_file_lists_users_but_refuses_to_add_one(
        fresh_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    data = fresh_db.parent
    monkeypatch.setattr("sys.stdin", _Stdin(PASSWORD_STDIN))
    assert _main(capsys, "users", "add", "early", "--password-stdin", "--data-dir", str(data))[0] == 0
    with read_only(fresh_db):
        code, out, _err = _main(capsys, "users", "list", "--data-dir", str(data))
        assert code == 0 and "early" in out
        monkeypatch.setattr("sys.stdin", _Stdin(PASSWORD_STDIN))
        code, out, err = _main(capsys, "users", "add", "late", "--password-stdin", "--data-dir", str(data))
        assert code == 1
        assert_one_line(err, "users add:", str(fresh_db), "read-only")
    code, out, _err = _main(capsys, "users", "list", "--data-dir", str(data))
    assert "early" in out and "late" not in out


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def readline(self) -> str:
        line, _, self.text = self.text.partition("\n")
        return line + "\n"

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("command", [("users", "list"), ("serve", "--port", "9")])
def test_a_damaged_database_is_one_line_from_the_real_command(fresh_db: Path, command: tuple[str, ...]):
    break_database(fresh_db, "garbage")
    env = {**os.environ, "CREWOS_TUI_DATA_DIR": str(fresh_db.parent)}
    done = subprocess.run([sys.executable, "-m", "crewos_tui.cli", *command], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert_one_line(done.stderr, f"database {fresh_db}: the file is damaged (file is not a database)",
                    "crewos-tui restore")
