"""The notifications benchmark (benchmarks/notifications.py) at a small scale, so it
keeps working, and its query plans: every list of one user's notifications is an
index search, never a scan or a sort of the whole table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from .conftest import REPO


def load_benchmark():
    spec = importlib.util.spec_from_file_location("notifications_bench", REPO / "benchmarks" / "notifications.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def test_small_run_reports_every_call_and_uses_the_indexes(tmp_path: Path):
    bench = load_benchmark()
    timings, plans = await bench.run(count=1500, unread=0.5, runs=2, folder=tmp_path, others_count=400)
    by_name = {t.name: t for t in timings}
    assert set(by_name) == {"generate rows", "unread-count", "first page (50)", "first page unread",
                            "first page rare kind", "first page one project", "second page (cursor)"}
    unread = int(by_name["unread-count"].detail.split()[0])
    assert 600 < unread < 900  # about half of 1,500 (seeded)
    assert by_name["first page (50)"].detail == "50 rows" and by_name["second page (cursor)"].detail == "50 rows"
    assert all(t.median_ms >= 0 for t in timings)
    expected = {"list": "ix_notifications_user ", "unread": "ix_notifications_unread",
                "kind": "ix_notifications_user_kind", "project": "ix_notifications_user_project"}
    for name, index in expected.items():
        assert index in plans[name] + " " and "SCAN" not in plans[name] and "TEMP B-TREE" not in plans[name], plans
