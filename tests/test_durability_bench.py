"""The durability benchmark (benchmarks/durability.py) at a small scale, so it keeps working:
both modes run, the connections really had the level asked for, and the choice in force is
FULL (with WAL: every commit synced, so a power loss keeps acknowledged writes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from crewos_tui.backend.local import db as dbmod

from .conftest import REPO


def load_benchmark():
    spec = importlib.util.spec_from_file_location("durability_bench", REPO / "benchmarks" / "durability.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_small_run_measures_both_modes_and_leaves_the_choice_in_force(tmp_path: Path):
    bench = load_benchmark()
    result = await bench.run(tmp_path, commits=10, rounds=1)
    assert result["levels"] == {"NORMAL": 1, "FULL": 2}  # PRAGMA synchronous as the connections had it
    assert result["chosen"] == "FULL" and dbmod.SYNCHRONOUS == "FULL"
    for mode in ("NORMAL", "FULL"):
        assert set(result["rates"][mode]) == {"raw", "transfer", "task"}
        assert all(rate > 0 for rate in result["rates"][mode].values())
    assert set(result["ratios"]) == {"raw", "transfer", "task"}
