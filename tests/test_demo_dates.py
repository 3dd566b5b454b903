"""The demo workspace is dated relative to the "now" it is seeded at: a second now moves
every time in it by the same amount, nothing in it lies after its now (but expiries),
its newest item is minutes old, and its last day has activity (so "today" reads
something). A real run seeds at the real time; tests seed at ``DEMO_NOW``."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.demo import DEMO_SPAN, demo_start, seed_demo

from .conftest import DEMO_NOW, FAST_SCRYPT, run_apart

#: Times ahead of "now" by design: when something expires or a lock ends.
AHEAD = ("expires_at", "locked_until")
LATER_NOW = DEMO_NOW + timedelta(days=268, hours=3, minutes=17)


def times(path: Path) -> dict[tuple[str, str], list[datetime | None]]:
    """Every DATETIME column of every table, its values in row order."""
    db = sqlite3.connect(path)
    try:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found: dict[tuple[str, str], list[datetime | None]] = {}
        for table in tables:
            columns = [c[1] for c in db.execute(f'PRAGMA table_info("{table}")') if c[2] == "DATETIME"]
            for column in columns:
                values = db.execute(f'SELECT "{column}" FROM "{table}" ORDER BY rowid').fetchall()
                found[table, column] = [
                    None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC) for (v,) in values
                ]
        return found
    finally:
        db.close()


@pytest.fixture(scope="module")
def later_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("later-demo") / "demo.db"
    run_apart(seed_demo(path, settings=Settings(scrypt_n=FAST_SCRYPT), now=LATER_NOW))
    return path


def test_another_now_moves_every_time_by_the_same_amount(demo_template: Path, later_demo: Path) -> None:
    pinned, later = times(demo_template), times(later_demo)
    assert pinned.keys() == later.keys()
    delta = LATER_NOW - DEMO_NOW
    compared = 0
    for key, values in pinned.items():
        assert len(values) == len(later[key]), key
        for a, b in zip(values, later[key], strict=True):
            assert (a is None) == (b is None), key
            if a is not None and b is not None:
                assert b - a == delta, (key, a, b)
                compared += 1
    assert compared > 1000  # rows, events, audit entries: the whole history moved


@pytest.mark.parametrize("now", [DEMO_NOW, LATER_NOW], ids=["pinned", "later"])
def test_the_history_ends_minutes_before_now_and_nothing_is_after_it(
    demo_template: Path, later_demo: Path, now: datetime
) -> None:
    seeded = times(demo_template if now == DEMO_NOW else later_demo)
    past = [t for (_, column), values in seeded.items() if not column.endswith(AHEAD) for t in values if t]
    assert max(past) <= now, "an item dated after its now: DEMO_SPAN must grow with the demo data"
    assert now - max(past) < timedelta(hours=1)
    first = min(t for (_, column), values in seeded.items() if column == "created_at" for t in values if t)
    assert first == now - DEMO_SPAN  # (a report's "since" window may reach further back)
    assert sum(t.date() == now.date() for t in past) >= 20  # today has happened, too


def test_the_pinned_demo_starts_where_the_snapshots_expect_it() -> None:
    assert demo_start(DEMO_NOW) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_real_run_dates_the_demo_from_the_real_time() -> None:
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    start = demo_start()
    after = datetime.now(UTC)
    assert before - DEMO_SPAN <= start <= after - DEMO_SPAN
    assert start.second == 0 and start.microsecond == 0  # to the minute: times read 09:07, not 09:07:41.5
