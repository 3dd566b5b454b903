"""``crewos-tui backup`` / ``restore`` / ``doctor``'s integrity check, on real files.

A backup taken while another process writes through the service layer is consistent (its
integrity check passes, every ledger transaction balances, every cached balance is the sum
of its postings, the audit chain verifies). A restore refuses what it must (not SQLite,
not ours, newer, damaged, in use), keeps the old database aside, and the result opens.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crewos_tui import cli
from crewos_tui.backend import errors
from crewos_tui.backend.local import maintenance
from crewos_tui.backend.local.db import SCHEMA_VERSION
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate, UserCreate
from crewos_tui.backend.schemas.tokens import TokenMint, TokenSettingsUpdate, WalletUpsert
from crewos_tui.commands import database_checks

from .conftest import fast_settings
from .db_faults import break_database
from .test_db import make_v1

OWNER = "owner"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def seed(path: Path, *projects: str, ledger: bool = False) -> str | None:
    """An admin ``owner`` and the named projects; with ``ledger`` a token with two funded wallets
    (the first project's id is returned)."""
    svc = await Services.open(path, settings=fast_settings())
    try:
        if not (await svc.auth.list_users(Principal.system())).items:
            await svc.auth.create_user(Principal.system(), UserCreate(username=OWNER, password="owner password 1",
                                                                      role="admin"))
        me = await svc.auth.principal_for(OWNER)
        ids = [(await svc.projects.create(me, ProjectCreate(name=name))).id for name in projects]
        if ledger:
            t = svc.tokenization
            await t.configure(me, ids[0], TokenSettingsUpdate(symbol="BKP", decimals=0, allow_direct_operations=True))
            for address in ("alpha", "bravo"):
                await t.upsert_wallet(me, ids[0], address, WalletUpsert())
            await t.mint(me, ids[0], TokenMint(to_wallet="alpha", amount=1_000_000))
        return ids[0] if ids else None
    finally:
        await svc.close()


def files_of(folder: Path) -> list[str]:
    """The files in ``folder``, but SQLite's own -wal and -shm (a read-only look may make them)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm")))


def project_names(path: Path) -> list[str]:
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT name FROM projects"))
    finally:
        con.close()


def ledger_problems(path: Path) -> list[str]:
    """Double entry on a copy: each transaction's postings sum to zero, each cached balance is
    the sum of its wallet's postings."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        unbalanced = con.execute("SELECT transaction_id FROM token_postings GROUP BY transaction_id "
                                 "HAVING sum(amount) != 0").fetchall()
        drift = con.execute("SELECT w.address FROM token_wallets w LEFT JOIN token_postings p ON p.wallet_id = w.id "
                            "GROUP BY w.id HAVING w.balance != coalesce(sum(p.amount), 0)").fetchall()
    finally:
        con.close()
    return [f"unbalanced {r[0]}" for r in unbalanced] + [f"balance of {r[0]}" for r in drift]


async def audit_chain_valid(path: Path) -> bool:
    svc = await Services.open(path, settings=fast_settings())
    try:
        return (await svc.admin.audit_integrity(await svc.auth.principal_for(OWNER))).valid
    finally:
        await svc.close()


def transaction_count(path: Path) -> int:
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM token_transactions").fetchone()[0])
    finally:
        con.close()


WRITER = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from crewos_tui.backend.local.context import Settings
    from crewos_tui.backend.local.services import Services
    from crewos_tui.backend.schemas.tokens import TokenTransfer

    async def main(path, project_id, stop):
        svc = await Services.open(path, settings=Settings(scrypt_n=2**4))
        me = await svc.auth.principal_for("owner")
        done = 0
        print("writing", flush=True)
        while not stop.exists():
            a, b = ("alpha", "bravo") if done % 2 == 0 else ("bravo", "alpha")
            await svc.tokenization.transfer(me, project_id, TokenTransfer(from_wallet=a, to_wallet=b, amount=3))
            done += 1
        await svc.close()
        print(done, flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
""")


def test_a_backup_taken_while_another_process_writes_is_consistent(fresh_db: Path, tmp_path: Path):
    project_id = asyncio.run(seed(fresh_db, "Ledger", ledger=True))
    assert project_id is not None
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(fresh_db), project_id, str(stop)],
                              stdout=subprocess.PIPE, text=True)
    backups: list[Path] = []
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        seen = transaction_count(fresh_db)
        for n in range(4):
            deadline = time.monotonic() + 60
            while transaction_count(fresh_db) == seen:  # the writer has committed more since the last copy
                assert writer.poll() is None and time.monotonic() < deadline, "the writer stopped writing"
                time.sleep(0.01)
            target = tmp_path / f"backup-{n}.db"
            maintenance.backup(fresh_db, target)
            backups.append(target)
            seen = transaction_count(fresh_db)
        assert writer.poll() is None  # every copy was taken while the writer was still at it
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    written = int(out.strip())
    counts = [transaction_count(b) for b in backups]
    assert counts == sorted(counts) and counts[0] > 1 and counts[-1] < 1 + written  # mid-way, in order
    for copy in backups:
        assert maintenance.inspect(copy).ok
        assert ledger_problems(copy) == []
        assert not Path(f"{copy}-wal").exists() and mode_of(copy) == 0o600
        opened = copy.with_name(copy.name + ".opened")
        shutil.copy(copy, opened)
        assert asyncio.run(audit_chain_valid(opened))
    assert ledger_problems(fresh_db) == [] and transaction_count(fresh_db) == 1 + written


async def test_a_backup_is_a_new_private_self_contained_file(fresh_db: Path, tmp_path: Path):
    await seed(fresh_db, "Atlas")
    target = tmp_path / "copies" / "atlas.db"
    with pytest.raises(errors.Invalid, match="does not exist"):
        maintenance.backup(fresh_db, target)
    target.parent.mkdir()
    done = maintenance.backup(fresh_db, target)
    assert done.target == target and done.version == SCHEMA_VERSION
    assert mode_of(target) == 0o600 and project_names(target) == ["Atlas"]
    con = sqlite3.connect(target)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal to carry
    con.close()
    with pytest.raises(errors.Conflict, match="already exists"):
        maintenance.backup(fresh_db, target)
    into_folder = maintenance.backup(fresh_db, target.parent)
    assert into_folder.target.parent == target.parent and into_folder.target.name.startswith("crewos-")
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(["atlas.db", into_folder.target.name])


async def test_backup_refuses_what_is_not_a_crewos_tui_database(tmp_path: Path, fresh_db: Path):
    with pytest.raises(errors.NotFound, match="nothing to back up"):
        maintenance.backup(tmp_path / "none.db", tmp_path / "b.db")
    break_database(fresh_db, "foreign")
    with pytest.raises(errors.Invalid, match="not a crewos-tui database"):
        maintenance.backup(fresh_db, tmp_path / "b.db")
    assert not (tmp_path / "b.db").exists()


async def test_restore_puts_the_backup_in_place_and_keeps_the_old_database_aside(fresh_db: Path, tmp_path: Path):
    await seed(fresh_db, "Kept")
    backup = tmp_path / "kept.db"
    maintenance.backup(fresh_db, backup)
    await seed(fresh_db, "Made after the backup")
    done = maintenance.restore(backup, fresh_db)
    assert project_names(fresh_db) == ["Kept"] and mode_of(fresh_db) == 0o600
    assert done.kept_aside is not None and done.kept_aside.name.startswith("crewos.db.before-restore-")
    assert project_names(done.kept_aside) == ["Kept", "Made after the backup"] and mode_of(done.kept_aside) == 0o600
    assert project_names(backup) == ["Kept"]  # the backup itself is untouched
    # The restored database opens and takes writes.
    await seed(fresh_db, "After the restore")
    assert project_names(fresh_db) == ["After the restore", "Kept"]


async def test_restore_into_an_empty_data_dir_and_from_an_older_schema(tmp_path: Path):
    old = tmp_path / "old.db"
    make_v1(old)
    target = tmp_path / "data" / "crewos.db"
    done = maintenance.restore(old, target)
    assert done.kept_aside is None and done.version == 1
    assert mode_of(target) == 0o600 and mode_of(target.parent) == 0o700
    svc = await Services.open(target, settings=fast_settings())  # migrated forward on open
    try:
        assert await svc.ctx.db.schema_version() == SCHEMA_VERSION
        me = await svc.auth.principal_for("oldtimer")
        assert [p.name for p in (await svc.projects.list(me)).items] == ["Legacy"]
    finally:
        await svc.close()


@pytest.mark.parametrize(("fault", "words"), [
    ("garbage", "not a SQLite database"),
    ("foreign", "not a crewos-tui database"),
    ("newer", "newer than this crewos-tui understands"),
    ("malformed", "the backup is damaged"),
])
async def test_restore_refuses_a_file_it_cannot_use_and_changes_nothing(
        fresh_db: Path, tmp_path: Path, fault: str, words: str):
    await seed(fresh_db, "Live")
    bad = tmp_path / "bad" / "crewos.db"
    bad.parent.mkdir()
    await seed(bad, "Other", *(f"Padding {n}" for n in range(40)))  # pages enough to damage
    break_database(bad, fault)
    before = files_of(fresh_db.parent)
    with pytest.raises(errors.Invalid) as raised:
        maintenance.restore(bad, fresh_db)
    line = str(raised.value)
    assert line.startswith(f"{bad}: ") and words in line and "\n" not in line, line
    assert project_names(fresh_db) == ["Live"]
    assert files_of(fresh_db.parent) == before  # nothing set aside, nothing staged


async def test_restore_refuses_while_another_process_has_the_database_open(fresh_db: Path, tmp_path: Path):
    await seed(fresh_db, "Live")
    backup = tmp_path / "b.db"
    maintenance.backup(fresh_db, backup)
    svc = await Services.open(fresh_db, settings=fast_settings())  # as a server or a TUI holds it
    try:
        await svc.auth.principal_for(OWNER)  # a connection stays open in its pool
        with pytest.raises(errors.Conflict, match="open in another process"):
            maintenance.restore(backup, fresh_db)
    finally:
        await svc.close()
    assert not list(fresh_db.parent.glob("*.before-restore-*"))
    assert maintenance.restore(backup, fresh_db).kept_aside is not None  # closed: now it may


async def test_restore_replaces_a_damaged_database(fresh_db: Path, tmp_path: Path):
    await seed(fresh_db, "Saved")
    backup = tmp_path / "b.db"
    maintenance.backup(fresh_db, backup)
    break_database(fresh_db, "garbage")
    done = maintenance.restore(backup, fresh_db)
    assert project_names(fresh_db) == ["Saved"]
    assert done.kept_aside is not None and done.kept_aside.read_bytes().startswith(b"this is not a database")


async def test_the_commands_print_what_they_did_or_one_line(fresh_db: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]):
    await seed(fresh_db, "Atlas")
    data, backup = fresh_db.parent, tmp_path / "atlas-backup.db"
    assert cli.main(["backup", str(backup), "--data-dir", str(data)]) == 0
    out, _ = capsys.readouterr()
    assert f"backed up {fresh_db} (schema version {SCHEMA_VERSION}" in out and str(backup) in out
    assert cli.main(["backup", str(backup), "--data-dir", str(data)]) == 1
    _, err = capsys.readouterr()
    assert err == f"crewos-tui: {backup} already exists: choose another name, or remove it first\n"
    assert cli.main(["restore", str(backup), "--data-dir", str(data)]) == 0
    out, _ = capsys.readouterr()
    assert f"restored {fresh_db} from {backup}" in out and "previous database is kept as" in out
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello")
    assert cli.main(["restore", str(garbage), "--data-dir", str(data)]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith(f"crewos-tui: {garbage}: not a SQLite database")


# ---- doctor ----------------------------------------------------------------------------------


async def test_doctor_runs_the_integrity_check_and_names_the_first_problems(fresh_db: Path, tmp_path: Path):
    data = fresh_db.parent
    await seed(fresh_db, "Fine", *(f"Padding {n}" for n in range(40)))
    [(line, ok)] = database_checks([data])
    assert ok and line == f"database:    {fresh_db}: ok (schema version {SCHEMA_VERSION}, integrity check passed)"
    empty = tmp_path / "empty"
    assert database_checks([empty]) == [(f"database:    {empty / 'crewos.db'} (created on first use)", True)]
    (empty / "crewos.db").parent.mkdir()
    (empty / "crewos.db").touch()  # made, not yet set up: an empty database, not a damaged one
    assert database_checks([empty]) == [(f"database:    {empty / 'crewos.db'}: empty (crewos-tui sets it up on "
                                         "first use)", True)]
    with pytest.raises(errors.Invalid, match="not a crewos-tui database"):
        maintenance.restore(empty / "crewos.db", tmp_path / "target" / "crewos.db")

    break_database(fresh_db, "malformed")
    [(line, ok)] = database_checks([data])
    assert not ok and f"{fresh_db}: DAMAGED: " in line and "crewos-tui restore" in line
    found = maintenance.inspect(fresh_db)
    assert found.problems and found.problems[0] in line

    break_database(fresh_db, "garbage")
    [(line, ok)] = database_checks([data])
    assert not ok and "DAMAGED: not a SQLite database" in line


async def test_doctor_names_a_newer_schema_and_checks_the_demo_database_too(fresh_db: Path):
    demo = fresh_db.with_name("demo.db")
    shutil.copy(fresh_db, demo)
    break_database(fresh_db, "newer")
    lines = database_checks([fresh_db.parent])
    assert [ok for _line, ok in lines] == [False, True]
    assert "NEWER SCHEMA" in lines[0][0] and "upgrade crewos-tui" in lines[0][0]
    assert lines[1][0].startswith(f"database:    {demo}: ok")
