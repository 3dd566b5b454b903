"""The token ledger at scale: one project with 1,000,000 postings.

Sets up a project, its token and wallets through the service layer, then seeds
``--postings`` postings (half as many transactions: mints and transfers between
``--wallets`` wallets) with SQLAlchemy Core bulk inserts into the service layer's
own schema, keeping the cached balances, ``balance_after`` and ``supply_after``
exact. Then times, through the real service layer:

* a history page of 100 (newest first, and one deep in the ledger by cursor);
* one wallet's history page of 100;
* the token status call (supply, holders, balances, last transaction);

and, in the same run on the same file, the raw SQLite equivalents (sqlite3, no
ORM): the keyset query alone, and the keyset query plus the postings of its page
(what the service returns). Prints medians, p95s, the ratios service / raw, and
SQLite's plan for each query, then checks the cached balances against the
postings.

    python benchmarks/ledger.py [--postings 1000000] [--wallets 200] [--runs 30]

Target (issue 8): a history page within 2.5x of the raw keyset query. Not a
test: timings depend on the machine (tests/test_ledger_bench.py runs a small
version so it keeps working).
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

from sqlalchemy import create_engine, insert, text, update

from crewos_tui.backend.ids import IdGenerator
from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import (
    TokenPostingRow,
    TokenTransactionRow,
    TokenWalletRow,
)
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate, UserCreate
from crewos_tui.backend.schemas.tokens import TokenSettingsUpdate, WalletUpsert

START = datetime(2025, 1, 1, tzinfo=UTC)
PAGE = 100
BATCH = 20_000


@dataclass
class Timing:
    name: str
    median_ms: float
    p95_ms: float


async def time_async(name: str, call: Callable[[], Awaitable[Any]], runs: int) -> Timing:
    await call()  # warm caches and statements
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - t0) * 1000)
    return _timing(name, samples)


def time_sync(name: str, call: Callable[[], Any], runs: int) -> Timing:
    call()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
    return _timing(name, samples)


def _timing(name: str, samples: list[float]) -> Timing:
    samples.sort()
    return Timing(name, statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)])


async def set_up(path: Path, wallets: int) -> tuple[Services, Principal, str, dict[str, str]]:
    svc = await Services.open(path, settings=Settings(scrypt_n=2**4))
    await svc.auth.create_user(Principal.system(), UserCreate(username="bench", password="bench password 1"))
    me = await svc.auth.principal_for("bench")
    project = await svc.projects.create(me, ProjectCreate(name="Ledger bench"))
    t = svc.tokenization
    await t.configure(me, project.id, TokenSettingsUpdate(symbol="BEN", decimals=2, allow_direct_operations=True))
    await t.upsert_wallet(me, project.id, "treasury", WalletUpsert(owner_kind="treasury"))
    for i in range(wallets - 1):
        await t.upsert_wallet(me, project.id, f"w{i:04d}", WalletUpsert())
    async with svc.ctx.db.read() as s:
        from sqlalchemy import select

        ids = dict((await s.execute(select(TokenWalletRow.address, TokenWalletRow.id)
                                    .where(TokenWalletRow.project_id == project.id))).all())
    return svc, me, project.id, ids


def seed(path: Path, project_id: str, wallet_ids: dict[str, str], postings: int) -> int:
    """Bulk-insert ``postings`` postings (two per transaction); returns the transaction count."""
    rnd = random.Random(8)
    holders = [a for a in wallet_ids if not a.startswith("@")]
    balance = dict.fromkeys(wallet_ids, 0)
    ids = IdGenerator(seed=8)
    engine = create_engine(f"sqlite:///{path}")
    txs, legs, supply, seq = [], [], 0, 0
    count = postings // 2
    with engine.begin() as conn:
        for n in range(count):
            seq += 1
            when = START + timedelta(seconds=n)
            source = rnd.choice(holders)
            if balance[source] < 1_000 or n % 50 == 0:  # top up by minting
                kind, amount, frm, to = "mint", rnd.randint(10_000, 1_000_000), "@issuance", source
                supply += amount
            else:
                target = rnd.choice(holders)
                while target == source:
                    target = rnd.choice(holders)
                kind, amount, frm, to = "transfer", rnd.randint(1, balance[source]), source, target
            tx_id = ids.new()
            balance[frm] -= amount
            balance[to] += amount
            txs.append({"id": tx_id, "project_id": project_id, "seq": seq, "kind": kind, "amount": amount,
                        "memo": "", "request_id": None, "created_by": None, "created_by_name": "bench",
                        "created_at": when, "supply_after": supply})
            legs.append({"transaction_id": tx_id, "project_id": project_id, "wallet_id": wallet_ids[frm],
                         "amount": -amount, "balance_after": balance[frm]})
            legs.append({"transaction_id": tx_id, "project_id": project_id, "wallet_id": wallet_ids[to],
                         "amount": amount, "balance_after": balance[to]})
            if len(txs) >= BATCH:
                conn.execute(insert(TokenTransactionRow), txs)
                conn.execute(insert(TokenPostingRow), legs)
                txs, legs = [], []
        if txs:
            conn.execute(insert(TokenTransactionRow), txs)
            conn.execute(insert(TokenPostingRow), legs)
        for address, value in balance.items():  # the cached balances, in the same transaction
            conn.execute(update(TokenWalletRow).where(TokenWalletRow.id == wallet_ids[address]).values(balance=value))
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return count


async def floor(svc: Services) -> None:
    """What any service read costs before it does anything (session, BEGIN, aiosqlite's thread hops)."""
    async with svc.ctx.db.read() as s:
        await s.execute(text("SELECT 1"))


RAW_PAGE = ("SELECT id, project_id, seq, kind, amount, memo, request_id, created_by, created_by_name, created_at, "
            "supply_after FROM token_transactions WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?")
RAW_LEGS = ("SELECT p.transaction_id, w.address, p.amount, p.balance_after FROM token_postings p "
            "JOIN token_wallets w ON w.id = p.wallet_id WHERE p.transaction_id IN ({}) ORDER BY p.id")
RAW_WALLET_PAGE = ("SELECT p.id, t.id, t.seq, t.kind, t.amount, t.supply_after FROM token_postings p "
                   "JOIN token_transactions t ON t.id = p.transaction_id WHERE p.wallet_id = ? AND p.id < ? "
                   "ORDER BY p.id DESC LIMIT ?")


async def run(postings: int, wallets: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.db"
        svc, me, pid, wallet_ids = await set_up(path, wallets)
        t0 = time.perf_counter()
        count = seed(path, pid, wallet_ids, postings)
        seeded_s = time.perf_counter() - t0
        t = svc.tokenization
        try:
            first = await t.list_transactions(me, pid, limit=PAGE)
            deep_cursor = None
            page = first
            for _ in range(3):  # a few pages in, then jump deep with a cursor of our own
                page = await t.list_transactions(me, pid, limit=PAGE, cursor=page.next_cursor)
            from crewos_tui.backend.local.pagination import encode_cursor

            deep_cursor = encode_cursor([count // 2])
            wallet = "w0001"
            timings = [
                await time_async("service: history page 100 (newest)", lambda: t.list_transactions(me, pid, limit=PAGE),
                                 runs),
                await time_async("service: history page 100 (deep cursor)",
                                 lambda: t.list_transactions(me, pid, limit=PAGE, cursor=deep_cursor), runs),
                await time_async("service: wallet history page 100",
                                 lambda: t.list_transactions(me, pid, limit=PAGE, wallet=wallet), runs),
                await time_async("service: token status", lambda: t.token_status(me, pid), runs),
                await time_async("floor: empty read session + SELECT 1", lambda: floor(svc), runs),
            ]
            con = sqlite3.connect(path)
            mid = count // 2

            def raw_keyset() -> list[Any]:
                return con.execute(RAW_PAGE, (pid, mid, PAGE)).fetchall()

            def raw_page_with_legs() -> list[Any]:
                rows = con.execute(RAW_PAGE, (pid, mid, PAGE)).fetchall()
                ids = [r[0] for r in rows]
                return con.execute(RAW_LEGS.format(",".join("?" * len(ids))), ids).fetchall()

            def raw_status() -> Any:
                con.execute("SELECT kind, balance FROM token_wallets WHERE project_id = ?", (pid,)).fetchall()
                return con.execute("SELECT max(seq) FROM token_transactions WHERE project_id = ?", (pid,)).fetchone()

            raw = [
                time_sync("raw sqlite3: keyset query 100", raw_keyset, runs),
                time_sync("raw sqlite3: keyset query 100 + its postings", raw_page_with_legs, runs),
                time_sync("raw sqlite3: wallet balances + last seq", raw_status, runs),
            ]
            plans = {
                "history page": con.execute("EXPLAIN QUERY PLAN " + RAW_PAGE, (pid, mid, PAGE)).fetchall(),
                "wallet page": con.execute("EXPLAIN QUERY PLAN " + RAW_WALLET_PAGE,
                                           (wallet_ids[wallet], 10**9, PAGE)).fetchall(),
            }
            # The cached balances still equal their postings.
            mismatched = con.execute(
                "SELECT count(*) FROM token_wallets w WHERE w.project_id = ? AND w.balance != "
                "(SELECT coalesce(sum(amount), 0) FROM token_postings p WHERE p.wallet_id = w.id)",
                (pid,)).fetchone()[0]
            total = con.execute("SELECT count(*) FROM token_postings").fetchone()[0]
            con.close()
            assert len(first.items) == PAGE and first.items[0].seq == count
        finally:
            await svc.close()
    deep, raw_legs, raw_key, base = timings[1].median_ms, raw[1].median_ms, raw[0].median_ms, timings[-1].median_ms
    return {"postings": total, "transactions": count, "seed_s": seeded_s, "timings": timings, "raw": raw,
            "plans": plans, "mismatched_balances": mismatched,
            "ratio_page_vs_raw_keyset": deep / raw_key, "ratio_page_vs_raw_page_with_postings": deep / raw_legs,
            "ratio_above_floor_vs_raw_page_with_postings": max(deep - base, 0.0) / raw_legs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--wallets", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    result = asyncio.run(run(args.postings, args.wallets, args.runs))
    print(f"{result['postings']:,} postings in {result['transactions']:,} transactions, seeded in "
          f"{result['seed_s']:.1f} s")
    for timing in result["timings"] + result["raw"]:
        print(f"  {timing.name:<48} median {timing.median_ms:7.2f} ms   p95 {timing.p95_ms:7.2f} ms")
    print(f"  history page / raw keyset query:                 {result['ratio_page_vs_raw_keyset']:.2f}x")
    print(f"  history page / raw keyset query + its postings:  {result['ratio_page_vs_raw_page_with_postings']:.2f}x")
    print(f"  (history page - floor) / raw + its postings:     "
          f"{result['ratio_above_floor_vs_raw_page_with_postings']:.2f}x")
    for name, plan in result["plans"].items():
        print(f"  plan, {name}: " + " | ".join(row[-1] for row in plan))
    print(f"  wallets whose cached balance differs from their postings: {result['mismatched_balances']}")
    return 0 if result["mismatched_balances"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
