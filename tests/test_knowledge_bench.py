"""The knowledge-search benchmark (benchmarks/knowledge_search.py) at a small scale, so it
keeps working, and the plan of a ranked search: the full-text index drives the query
(run once, materialized) and entries are looked up by ``fts_rowid`` — never a walk
over a namespace's entries probing the index row by row."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite

from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.knowledge import search as search_module
from crewos_tui.backend.schemas import KnowledgeSearch

from .conftest import REPO


def load_benchmark() -> Any:
    spec = importlib.util.spec_from_file_location("knowledge_bench", REPO / "benchmarks" / "knowledge_search.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def test_small_run_reports_every_call(tmp_path: Path) -> None:
    bench = load_benchmark()
    timings = await bench.run(count=2000, runs=2, folder=tmp_path, links=800)
    by_name = {t.name: t for t in timings}
    assert list(by_name) == ["generate rows", "rare word", "common word", "two words (all)", "any of three",
                             "member: 1 of 20 ns", "tag filter", "second page", "retrieve, 1 hop", "retrieve, 2 hops",
                             "reference: raw FTS5"]
    assert by_name["rare word"].detail == "1 shown of 1"  # one entry in 20,000 has it
    member_total = int(by_name["member: 1 of 20 ns"].detail.split()[-1])
    common_total = int(by_name["common word"].detail.split()[-1])
    assert 0 < member_total < common_total / 10  # one namespace of twenty
    assert "linked" in by_name["retrieve, 2 hops"].detail
    assert by_name["reference: raw FTS5"].detail.startswith("21 rows")  # the common word's first page + 1


async def test_ranked_search_is_driven_by_the_index(tmp_path: Path, monkeypatch: Any) -> None:
    bench = load_benchmark()
    db = tmp_path / "plan.db"
    svc = await Services.open(db, settings=Settings(scrypt_n=2**4))
    await svc.close()
    bench.fill(db, 500, 100)
    svc = await Services.open(db, settings=Settings(scrypt_n=2**4))
    plans: list[str] = []
    original = search_module._run

    async def explain(s: Any, stmt: Any) -> Any:
        sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        if "fts_hits" in sql:
            rows = (await (await s.connection()).exec_driver_sql("EXPLAIN QUERY PLAN " + sql)).all()
            plans.append("\n".join(str(r[-1]) for r in rows))
        return await original(s, stmt)

    monkeypatch.setattr(search_module, "_run", explain)
    try:
        from crewos_tui.backend.principal import Principal

        await svc.knowledge.search(Principal.system(), KnowledgeSearch(query="system", namespaces=["bench/ns03"]))
    finally:
        await svc.close()
    plan = plans[0]
    assert "MATERIALIZE fts_hits" in plan and "SCAN knowledge_fts VIRTUAL TABLE" in plan
    assert "SEARCH knowledge_entries USING INDEX sqlite_autoindex_knowledge_entries_2 (fts_rowid=?)" in plan
    assert "ix_knowledge_entries_ns" not in plan
