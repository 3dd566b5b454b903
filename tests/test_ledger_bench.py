"""The ledger benchmark (benchmarks/ledger.py) at a small scale, so it keeps working:
bulk-seeded postings keep exact cached balances, every timing is reported, and
history pages are index searches, never scans."""

from __future__ import annotations

import importlib.util
import sys

from .conftest import REPO


def load_benchmark():
    spec = importlib.util.spec_from_file_location("ledger_bench", REPO / "benchmarks" / "ledger.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def test_small_run_reports_every_call_and_uses_the_indexes():
    bench = load_benchmark()
    result = await bench.run(postings=4_000, wallets=12, runs=2)
    assert result["postings"] == 4_000 and result["transactions"] == 2_000
    assert result["mismatched_balances"] == 0
    names = [t.name for t in result["timings"] + result["raw"]]
    assert len(names) == 8 and all(t.median_ms >= 0 for t in result["timings"])
    for name, plan in result["plans"].items():
        steps = " | ".join(row[-1] for row in plan)
        assert "USING INDEX" in steps and "SCAN" not in steps, (name, steps)
