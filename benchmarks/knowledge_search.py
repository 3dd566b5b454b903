"""Knowledge search at scale: 100,000 entries in 20 namespaces, 50,000 wiki links.

Generates the rows straight into a fresh database (the service layer's schema, its
FTS5 index filled by the same triggers the service relies on), then times the calls
the knowledge screen and the agents make through the real service layer: ranked
searches (a rare word, a common one, two words, any of three, one namespace for a
member granted one namespace of twenty, a tag filter, the second page) and
graph-aware retrieval (one and two hops). Medians and 95th percentiles of ``--runs``
calls each, and each as a ratio to a reference measured in the same process on the
same file: the bare FTS5 query (sqlite3, no service layer) for the top 21 bm25 matches
of the common word — what any ranked search must at least pay.

    python benchmarks/knowledge_search.py [--count 100000] [--runs 20]

Not a test: timings depend on the machine (tests/test_knowledge_bench.py runs a
small version of it, so it keeps working).
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import KnowledgeRetrieve, KnowledgeSearch, UserCreate

START = datetime(2025, 1, 1, tzinfo=UTC)
NAMESPACES = [f"bench/ns{i:02d}" for i in range(20)]
TAGS = ["ops", "design", "runtime", "security", "people", "finance", "release", "research"]
COMMON = ["system", "process", "team", "service", "update", "review", "change", "report"]
RARE = "zephyrine"  # appears in a handful of entries only


@dataclass
class Timing:
    name: str
    median_ms: float
    p95_ms: float
    detail: str = ""


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(size)}
    return sorted(words)


def fill(db: Path, count: int, links: int, seed: int = 11) -> None:
    """``count`` entries (and ``links`` links) straight into the tables."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    ids = IdGenerator(FixedClock(START, timedelta(seconds=1)), seed=seed)
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys=ON")
    stamp = START.strftime("%Y-%m-%d %H:%M:%S")
    con.executemany("INSERT INTO knowledge_namespaces(name, description, created_by, created_at) "
                    "VALUES (?, '', 'bench', ?)", [(ns, stamp) for ns in NAMESPACES])
    rows, tag_rows, entry_ids = [], [], []
    for n in range(count):
        eid = ids.new()
        entry_ids.append(eid)
        words = [rng.choice(vocab) for _ in range(rng.randint(40, 120))]
        words += rng.sample(COMMON, rng.randint(0, 3))
        if n % 20_000 == 7:
            words.append(RARE)
        rng.shuffle(words)
        title = " ".join(rng.choice(vocab) for _ in range(rng.randint(2, 5))).capitalize()
        tags = rng.sample(TAGS, rng.randint(0, 2))
        rows.append((eid, n + 1, NAMESPACES[n % len(NAMESPACES)], title, " ".join(words), json.dumps(tags),
                     " ".join(tags), stamp, stamp))
        tag_rows.extend((eid, t) for t in tags)
    con.executemany(
        "INSERT INTO knowledge_entries(id, fts_rowid, namespace, title, body, tags, tags_text, visibility, status, "
        "version, source_section, position, created_by, updated_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'visible', 'active', 1, '', 0, 'bench', 'bench', ?, ?)", rows)
    con.executemany("INSERT INTO knowledge_entry_tags(entry_id, tag) VALUES (?, ?)", tag_rows)
    pairs = set()
    while len(pairs) < links:
        a, b = rng.randrange(count), rng.randrange(count)
        if a != b:
            pairs.add((a, b))
    con.executemany(
        "INSERT INTO knowledge_links(id, source_id, target_id, kind, note, origin, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, 'related', '', 'manual', 'bench', ?, ?)",
        [(ids.new(), entry_ids[a], entry_ids[b], stamp, stamp) for a, b in sorted(pairs)])
    con.commit()
    con.close()


REFERENCE = "reference: raw FTS5"


def raw_reference(db: Path, runs: int) -> Timing:
    """The same ranked query straight on sqlite3: the floor the service layer adds to."""
    con = sqlite3.connect(db)
    sql = ("SELECT rowid, bm25(knowledge_fts, 5.0, 1.0, 3.0) AS r FROM knowledge_fts "
           "WHERE knowledge_fts MATCH ? ORDER BY r LIMIT 21")
    samples, rows = [], []
    try:
        for _ in range(runs):
            t = time.perf_counter()
            rows = con.execute(sql, (f'"{COMMON[0]}"',)).fetchall()
            samples.append((time.perf_counter() - t) * 1000)
    finally:
        con.close()
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(REFERENCE, statistics.median(samples), p95, f"{len(rows)} rows, no service layer")


async def _time(name: str, call: Callable[[], Awaitable[Any]], runs: int, detail: Callable[[Any], str]) -> Timing:
    samples, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = await call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(name, statistics.median(samples), p95, detail(result))


async def run(count: int = 100_000, runs: int = 20, folder: Path | None = None,
              links: int | None = None) -> list[Timing]:
    folder = folder or Path(tempfile.mkdtemp(prefix="crewos-kb-bench-"))
    db = folder / "bench.db"
    svc = await Services.open(db, settings=Settings(scrypt_n=2**4))
    await svc.auth.create_user(Principal.system(), UserCreate(username="member", password="benchmark password",
                                                              namespace_grants=[NAMESPACES[3]]))
    member = await svc.auth.principal_for("member")
    await svc.close()
    t = time.perf_counter()
    fill(db, count, links if links is not None else count // 2)
    timings = [Timing("generate rows", (time.perf_counter() - t) * 1000, 0.0,
                      f"{count} entries, {links if links is not None else count // 2} links")]
    reference = raw_reference(db, runs)
    svc = await Services.open(db, settings=Settings(scrypt_n=2**4))
    admin = Principal.system()
    k = svc.knowledge

    def hits(r: Any) -> str:
        return f"{len(r.items)} shown of {r.total}"

    def search(p: Principal, **kw: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: k.search(p, KnowledgeSearch(**kw))

    try:
        first = await k.search(admin, KnowledgeSearch(query=COMMON[0], limit=20))
        cases = [
            ("rare word", search(admin, query=RARE), hits),
            ("common word", search(admin, query=COMMON[0], limit=20), hits),
            ("two words (all)", search(admin, query=f"{COMMON[1]} {COMMON[2]}", limit=20), hits),
            ("any of three", search(admin, query=" ".join(COMMON[3:6]), match="any", limit=20), hits),
            ("member: 1 of 20 ns", search(member, query=COMMON[0], limit=20), hits),
            ("tag filter", search(admin, query=COMMON[0], tags=["security"], limit=20), hits),
            ("second page", search(admin, query=COMMON[0], limit=20, cursor=first.next_cursor), hits),
            ("retrieve, 1 hop", lambda: k.retrieve(admin, KnowledgeRetrieve(query=COMMON[4], hops=1)),
             lambda r: f"{len(r.items)} items ({r.expanded} linked)"),
            ("retrieve, 2 hops", lambda: k.retrieve(admin, KnowledgeRetrieve(query=COMMON[4], hops=2)),
             lambda r: f"{len(r.items)} items ({r.expanded} linked)"),
        ]
        for name, call, detail in cases:
            timings.append(await _time(name, call, runs, detail))
    finally:
        await svc.close()
    return [*timings, reference]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    timings = asyncio.run(run(args.count, args.runs))
    ref = next(t for t in timings if t.name == REFERENCE).median_ms or 1e-9
    print(f"{'call':<22} {'median ms':>10} {'p95 ms':>10} {'× ref':>8}  detail")
    for t in timings:
        ratio = "" if t.name == "generate rows" else f"{t.median_ms / ref:.1f}×"
        print(f"{t.name:<22} {t.median_ms:>10.1f} {t.p95_ms:>10.1f} {ratio:>8}  {t.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
