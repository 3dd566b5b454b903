"""The audit log at scale: append, export and verify a chain of N events.

* **append**: service calls that each record one change (``projects.update``), so
  every one pays the in-transaction audit append (read the head, hash, insert) —
  compared with the same calls with the audit handler removed;
* **export**: the CSV export of N events streamed through the service (time, peak
  traced memory, bytes), the chain being built straight into the file first;
* **verify**: ``/audit/integrity`` walking the N links.

    python benchmarks/audit.py [--events 100000] [--appends 300]

Not a test: timings depend on the machine (tests/test_audit_export.py checks the
memory bound with 100,000 events).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.admin.chain import chain
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate, ProjectUpdate, UserCreate
from crewos_tui.backend.schemas.audit import GENESIS_HASH

SYSTEM = Principal.system()
COLUMNS = ("seq, event_id, created_at, actor_id, actor, auth_method, action, resource_type, resource_id, "
           "project_id, request_id, summary, details, prev_hash, hash")


async def appends(path: Path, n: int, audited: bool) -> float:
    services = await Services.open(path, settings=Settings(scrypt_n=16))
    try:
        if not audited:
            services.ctx.events._handlers = [h for h in services.ctx.events._handlers
                                             if getattr(h, "__self__", None).__class__.__name__ != "AuditTrail"]
        user = await services.auth.create_user(SYSTEM, UserCreate(username="bench", password="x" * 10))
        me = await services.auth.principal_for(user.username)
        project = await services.projects.create(me, ProjectCreate(name="Bench"))
        started = time.perf_counter()
        for i in range(n):
            await services.projects.update(me, project.id, ProjectUpdate(description=f"v{i}"))
        return (time.perf_counter() - started) / n
    finally:
        await services.close()


def build_chain(path: Path, n: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    raw = sqlite3.connect(path)
    seq, prev = 0, GENESIS_HASH
    for first in range(0, n, 5000):
        events = [SimpleNamespace(id=f"EV{i:024d}", kind="bench.changed", actor_id="u1", actor="bench",
                                  auth_method="system", resource_type="thing", resource_id=f"t{i}", project_id=None,
                                  data={"i": i, "note": "x" * 80}, created_at=start + timedelta(seconds=i))
                  for i in range(first, min(first + 5000, n))]
        rows = chain(seq + 1, prev, events, "bench")
        raw.executemany(f"INSERT INTO audit_events ({COLUMNS}) VALUES ({', '.join('?' * 15)})", [
            (r["seq"], r["event_id"], r["created_at"].strftime("%Y-%m-%d %H:%M:%S.%f"), r["actor_id"], r["actor"],
             r["auth_method"], r["action"], r["resource_type"], r["resource_id"], r["project_id"], r["request_id"],
             r["summary"], json.dumps(r["details"]), r["prev_hash"], r["hash"]) for r in rows])
        seq, prev = rows[-1]["seq"], rows[-1]["hash"]
    raw.commit()
    raw.close()


async def export_and_verify(path: Path, n: int) -> None:
    services = await Services.open(path, settings=Settings(scrypt_n=16))
    try:
        build_chain(path, n)
        started = time.perf_counter()
        stream = await services.admin.export_audit_csv(SYSTEM)
        size = chunks = 0
        async for chunk in stream:
            size, chunks = size + len(chunk), chunks + 1
        plain = time.perf_counter() - started
        tracemalloc.start()
        stream = await services.admin.export_audit_csv(SYSTEM)
        async for _chunk in stream:
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"export   {n:,} events: {plain:.2f} s ({n / plain:,.0f} events/s), {size / 1e6:.1f} MB "
              f"in {chunks} chunks, peak traced memory {peak / 1e6:.1f} MB")
        started = time.perf_counter()
        report = await services.admin.audit_integrity(SYSTEM)
        took = time.perf_counter() - started
        print(f"verify   {report.checked:,} links: {took:.2f} s ({report.checked / took:,.0f} links/s), "
              f"valid={report.valid}")
    finally:
        await services.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with_audit = await appends(Path(tmp) / "a.db", args.appends, True)
        without = await appends(Path(tmp) / "b.db", args.appends, False)
        print(f"append   one audited change {with_audit * 1000:.2f} ms vs {without * 1000:.2f} ms without the "
              f"audit handler (x{with_audit / without:.2f})")
        await export_and_verify(Path(tmp) / "c.db", args.events)


if __name__ == "__main__":
    asyncio.run(main())
