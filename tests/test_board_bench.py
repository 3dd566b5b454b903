"""The board benchmark (benchmarks/board.py) at a small scale, so it keeps working:
the generated board loads, the first cards arrive, and walking down a column
pages in more cards than the first page holds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from crewos_tui.screens.board import PAGE

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "board.py"


def load_bench():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("board_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


async def test_the_board_benchmark_runs_small(tmp_path: Path) -> None:
    bench = load_bench()
    db = await bench.make_workspace(tmp_path / "data", 400)
    _times, plan = await bench.service_page_times(db, 3)
    assert "ix_tasks_board" in plan  # the column page is an index range, not a scan
    run = await bench.drive_app(tmp_path / "data", presses=PAGE + 5, size=(80, 24))
    assert 0 < run.first_cards <= run.first_frame
    assert len(run.presses) == PAGE + 5
    assert run.cards_loaded > PAGE  # the walk paged in more cards
