"""Notifications at scale: one user with 100,000 notifications.

Generates the rows straight into a fresh database (the service layer's schema and
indexes; bulk insert, since producing 100,000 through domain events would measure
the producer, not the reads), then times the calls the TUI makes all day through
the real service layer: the unread count (the badge), the first page of the
list, the first page of unread ones, of one kind, of one project, and the page
after that. Medians and 95th percentiles of ``--runs`` calls each, plus the query
plan SQLite chose for each list, so a lost index shows up here first.

    python benchmarks/notifications.py [--count 100000] [--unread 0.02] [--runs 30]

Not a test: timings depend on the machine (tests/test_notifications_bench.py runs a
small version of it, so it keeps working).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crewos_tui.backend.ids import FixedClock, IdGenerator
from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.notifications.rules import KINDS
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import UserCreate

START = datetime(2025, 1, 1, tzinfo=UTC)
PROJECTS = 40
#: Notifications of other users in the same table, so the per-user indexes matter.
OTHERS = 20_000


@dataclass
class Timing:
    name: str
    median_ms: float
    p95_ms: float
    detail: str = ""


async def _user(svc: Services, name: str) -> Principal:
    await svc.auth.create_user(Principal.system(), UserCreate(username=name, password="benchmark password"))
    return await svc.auth.principal_for(name)


def _fill(db: Path, user_id: str, others: list[str], count: int, unread: float, others_count: int = OTHERS,
          seed: int = 7) -> dict[str, Any]:
    """Insert ``count`` notifications for ``user_id`` (and ``others_count`` for the others), oldest first."""
    rng = random.Random(seed)
    clock = FixedClock(START, timedelta(seconds=37))
    ids = IdGenerator(clock, seed=seed)
    kinds = list(KINDS)
    # A skewed mix: most notifications are of a few kinds, one kind is rare.
    weights = [40, 20, 10, 8, 6, 5, 4, 3, 2] + [0.05] * (len(kinds) - 9)
    rare = kinds[-1]
    projects = [f"P{n:024d}" for n in range(PROJECTS)]
    rows = []
    for owner, n in [(user_id, count)] + [(o, others_count // max(1, len(others))) for o in others]:
        for _ in range(n):
            created = clock.now()
            read = None if rng.random() < unread else (created + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
            kind = rng.choices(kinds, weights)[0]
            rows.append((ids.new(), owner, kind, f"{kind} happened", "benchmark body", "project",
                         rng.choice(projects), rng.choice(projects), "bench", "E" * 26,
                         created.strftime("%Y-%m-%d %H:%M:%S.%f"), read, None))
    rows.sort()  # ids are time-ordered: insert like production, oldest first
    con = sqlite3.connect(db)
    with con:
        con.executemany(
            "INSERT INTO notifications (id, user_id, kind, title, body, resource_type, resource_id, project_id, "
            "actor, event_id, created_at, read_at, dismissed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.close()
    return {"rare_kind": rare, "project": projects[3]}


async def _time(name: str, call: Callable[[], Awaitable[Any]], runs: int, check: Callable[[Any], str]) -> Timing:
    await call()  # warm the page cache and the statement cache
    samples = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await call()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(name, statistics.median(samples), p95, check(result))


def plans(db: Path, user_id: str, params: dict[str, Any]) -> dict[str, str]:
    """The plan SQLite picks for each list query (the service's own WHERE shapes)."""
    queries = {
        "list": "user_id = ? AND dismissed_at IS NULL",
        "unread": "user_id = ? AND read_at IS NULL AND dismissed_at IS NULL",
        "kind": "user_id = ? AND dismissed_at IS NULL AND kind = ?",
        "project": "user_id = ? AND dismissed_at IS NULL AND project_id = ?",
    }
    args = {"list": (user_id,), "unread": (user_id,), "kind": (user_id, params["rare_kind"]),
            "project": (user_id, params["project"])}
    con = sqlite3.connect(db)
    try:
        out = {}
        for name, where in queries.items():
            rows = con.execute(f"EXPLAIN QUERY PLAN SELECT * FROM notifications WHERE {where} "
                               "ORDER BY id DESC LIMIT 51", args[name]).fetchall()
            out[name] = "; ".join(r[3] for r in rows)
        return out
    finally:
        con.close()


async def run(count: int = 100_000, unread: float = 0.02, runs: int = 30, folder: Path | None = None,
              others_count: int = OTHERS) -> tuple[list[Timing], dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(folder or tmp) / "bench.db"
        svc = await Services.open(db, settings=Settings(scrypt_n=2**4))
        try:
            me = await _user(svc, "bench")
            others = [(await _user(svc, f"other{i}")).user_id for i in range(4)]
            assert me.user_id is not None
            t0 = time.perf_counter()
            params = _fill(db, me.user_id, [o for o in others if o], count, unread, others_count)
            fill_s = time.perf_counter() - t0
            n = svc.notifications
            first = await n.list(me, limit=50)
            timings = [
                await _time("unread-count", lambda: n.unread_count(me), runs, lambda r: f"{r.unread} unread"),
                await _time("first page (50)", lambda: n.list(me, limit=50), runs, lambda r: f"{len(r.items)} rows"),
                await _time("first page unread", lambda: n.list(me, limit=50, unread=True), runs,
                            lambda r: f"{len(r.items)} rows"),
                await _time("first page rare kind", lambda: n.list(me, limit=50, kind=params["rare_kind"]), runs,
                            lambda r: f"{len(r.items)} rows"),
                await _time("first page one project", lambda: n.list(me, limit=50, project_id=params["project"]),
                            runs, lambda r: f"{len(r.items)} rows"),
                await _time("second page (cursor)", lambda: n.list(me, limit=50, cursor=first.next_cursor), runs,
                            lambda r: f"{len(r.items)} rows"),
            ]
            generated = f"{count:,} + {others_count:,} others"
            timings.insert(0, Timing("generate rows", fill_s * 1000, fill_s * 1000, generated))
            return timings, plans(db, me.user_id, params)
        finally:
            await svc.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000, help="notifications of the one user")
    ap.add_argument("--unread", type=float, default=0.02, help="fraction left unread (0..1)")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args(argv)
    timings, chosen = asyncio.run(run(args.count, args.unread, args.runs))
    print(f"notifications: {args.count:,} for one user, {args.unread:.0%} unread, {args.runs} runs each")
    print(f"{'call':<24} {'median ms':>10} {'p95 ms':>10}  result")
    for t in timings:
        print(f"{t.name:<24} {t.median_ms:>10.2f} {t.p95_ms:>10.2f}  {t.detail}")
    print("query plans:")
    for name, plan in chosen.items():
        print(f"  {name:<8} {plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
