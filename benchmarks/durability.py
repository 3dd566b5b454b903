"""What durable commits cost: ``PRAGMA synchronous`` NORMAL against FULL, with WAL.

With WAL, ``synchronous=NORMAL`` syncs the log only at checkpoints (a power loss can take
the last commits, a crash cannot), ``FULL`` syncs it at every commit. This runs the same
writes both ways, alternating the modes over ``--rounds`` rounds on fresh files so a busy
disk hurts both alike, and reports commits per second and the ratio FULL / NORMAL:

* raw: sqlite3, one small INSERT per transaction (the floor: what fsync alone costs);
* service: a token transfer through the service layer (ledger postings, balances,
  domain event and audit event in one transaction);
* service: a task create through the service layer.

    python benchmarks/durability.py [--dir DIR] [--commits 300] [--rounds 3]

Run it on the disk that holds the data dir (``--dir``; the default is the current
directory): a tmpfs makes fsync free and the ratio meaningless. Not a test: timings
depend on the disk (tests/test_durability_bench.py runs a small version so it keeps
working). The choice it informs is ``SYNCHRONOUS`` in ``backend/local/db.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crewos_tui.backend.local import db as dbmod
from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate, TaskCreate, UserCreate
from crewos_tui.backend.schemas.tokens import TokenMint, TokenSettingsUpdate, TokenTransfer, WalletUpsert

MODES = ("NORMAL", "FULL")


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def raw_commits(path: Path, mode: str, commits: int) -> float:
    """Commits per second of one-row transactions straight through sqlite3."""
    _fresh(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={mode}")
    con.execute("CREATE TABLE t (x BLOB)")
    t0 = time.perf_counter()
    for _ in range(commits):
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t VALUES (?)", (os.urandom(200),))
        con.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    con.close()
    return commits / elapsed


async def service_commits(path: Path, mode: str, commits: int) -> tuple[float, float, int]:
    """Commits per second of token transfers and of task creates through the service layer;
    and the synchronous level the connections really had (1 NORMAL, 2 FULL)."""
    _fresh(path)
    dbmod.SYNCHRONOUS = mode
    svc = await Services.open(path, settings=Settings(scrypt_n=2**4))
    try:
        await svc.auth.create_user(Principal.system(), UserCreate(username="bench", password="bench password 1"))
        me = await svc.auth.principal_for("bench")
        project = await svc.projects.create(me, ProjectCreate(name="Durability bench"))
        t = svc.tokenization
        await t.configure(me, project.id, TokenSettingsUpdate(symbol="DUR", decimals=0, allow_direct_operations=True))
        for address in ("alpha", "bravo"):
            await t.upsert_wallet(me, project.id, address, WalletUpsert())
        await t.mint(me, project.id, TokenMint(to_wallet="alpha", amount=10 * commits))
        async with svc.ctx.db.read() as s:
            from sqlalchemy import text

            level = int((await s.execute(text("PRAGMA synchronous"))).scalar() or 0)
        t0 = time.perf_counter()
        for _ in range(commits):
            await t.transfer(me, project.id, TokenTransfer(from_wallet="alpha", to_wallet="bravo", amount=1))
        transfers = commits / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for n in range(commits):
            await svc.tasks.create(me, TaskCreate(project_id=project.id, title=f"task {n}"))
        creates = commits / (time.perf_counter() - t0)
        return transfers, creates, level
    finally:
        await svc.close()


async def run(directory: Path | None = None, commits: int = 300, rounds: int = 3) -> dict[str, Any]:
    """Median commits/s per mode and measure, and the ratios FULL / NORMAL."""
    chosen = dbmod.SYNCHRONOUS
    samples: dict[str, dict[str, list[float]]] = {m: {"raw": [], "transfer": [], "task": []} for m in MODES}
    levels: dict[str, int] = {}
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "durability.db"
        try:
            for _ in range(rounds):
                for mode in MODES:
                    samples[mode]["raw"].append(raw_commits(path, mode, commits))
                    transfers, creates, levels[mode] = await service_commits(path, mode, commits)
                    samples[mode]["transfer"].append(transfers)
                    samples[mode]["task"].append(creates)
        finally:
            dbmod.SYNCHRONOUS = chosen
    rates = {m: {k: statistics.median(v) for k, v in per.items()} for m, per in samples.items()}
    ratios = {k: rates["FULL"][k] / rates["NORMAL"][k] for k in rates["FULL"]}
    return {"rates": rates, "ratios": ratios, "levels": levels, "chosen": chosen, "commits": commits,
            "rounds": rounds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="where to put the files (the data dir's disk)")
    parser.add_argument("--commits", type=int, default=300, help="commits per measure and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the modes")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.dir, args.commits, args.rounds))
    names = {"raw": "raw sqlite3, 1-row commits", "transfer": "service: token transfer", "task": "service: task create"}
    print(f"{result['commits']} commits x {result['rounds']} rounds in {args.dir} (medians, commits/s)")
    print(f"{'':30} {'NORMAL':>9} {'FULL':>9} {'FULL/NORMAL':>12}")
    for key, name in names.items():
        print(f"{name:30} {result['rates']['NORMAL'][key]:9.0f} {result['rates']['FULL'][key]:9.0f} "
              f"{result['ratios'][key]:12.2f}")
    print(f"crewos-tui uses synchronous={result['chosen']} (backend/local/db.py SYNCHRONOUS)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
