"""The capability-gap scan: recent failures grouped into candidate findings.

Sources (each only when its slice's table exists; otherwise it is listed as skipped):

- ``review``: items rejected or quarantined, grouped by project and item kind;
- ``scenario``: test scenarios that failed or errored, grouped by scenario;
- ``validation``: failed validation runs (not those of test runs), grouped by the
  first failed check;
- ``task``: tasks in ``failed``, grouped by project;
- ``feedback``: thumbs-down feedback on chat answers, grouped by agent.

Severity grows with the number of occurrences in the window: 1 low, 2-4 medium,
5-9 high, 10 or more critical. Evidence keeps the newest ``MAX_EVIDENCE`` rows.
Everything is read in a stable order, so the same data gives the same findings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

MAX_EVIDENCE = 10
ROW_LIMIT = 5000  # per source: a scan reads at most this many recent rows


def severity_for(count: int) -> str:
    if count >= 10:
        return "critical"
    if count >= 5:
        return "high"
    if count >= 2:
        return "medium"
    return "low"


@dataclass
class Candidate:
    source: str
    capability: str
    project_id: str | None
    title: str
    summary: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    @property
    def fingerprint(self) -> str:
        return f"{self.source}|{self.capability}|{self.project_id or '-'}"

    @property
    def severity(self) -> str:
        return severity_for(self.count)


@dataclass
class Scope:
    """What the scan may read: ``projects`` None = every project (admins)."""

    since: datetime
    projects: set[str] | None
    user_id: str | None
    project_id: str | None = None  # the report's own filter

    def where(self, project_col: Any, owner_col: Any | None) -> Any:
        if self.project_id is not None:
            return project_col == self.project_id
        if self.projects is None:
            return true()
        mine = [project_col.in_(sorted(self.projects))] if self.projects else []
        if owner_col is not None and self.user_id is not None:
            mine.append(and_(project_col.is_(None), owner_col == self.user_id))
        return or_(*mine) if mine else project_col.in_([])


def _table(name: str) -> Table | None:
    return SQLModel.metadata.tables.get(name)


def _evidence(source: str, ref_id: str, title: str, detail: str, at: datetime | None) -> dict[str, Any]:
    return {"source": source, "ref_id": ref_id, "title": title[:200], "detail": detail[:500],
            "at": at.isoformat() if at else None}


def _group(rows: list[dict[str, Any]], key: Any, make: Any) -> list[Candidate]:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    out = []
    for k in sorted(groups, key=lambda g: tuple("" if x is None else str(x) for x in g)):
        out.append(make(k, groups[k]))
    return out


async def _fetch(s: AsyncSession, stmt: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in (await s.execute(stmt.limit(ROW_LIMIT))).all()]


async def scan_reviews(s: AsyncSession, scope: Scope) -> tuple[int, list[Candidate]] | None:
    t = _table("review_items")
    if t is None:
        return None
    rows = await _fetch(s, select(t.c.id, t.c.title, t.c.kind, t.c.project_id, t.c.state, t.c.decision_reason,
                                  t.c.decided_at).where(
        t.c.state.in_(("rejected", "quarantined")), t.c.decided_at >= scope.since,
        scope.where(t.c.project_id, t.c.submitter_id)).order_by(t.c.decided_at.desc(), t.c.id))

    def make(key: tuple[str | None, str], group: list[dict[str, Any]]) -> Candidate:
        project_id, kind = key
        reasons = [r["decision_reason"] for r in group if r["decision_reason"]]
        summary = f"{len(group)} '{kind}' item(s) were rejected or quarantined in review"
        if reasons:
            summary += "; latest reasons: " + "; ".join(dict.fromkeys(reasons[:3]))
        return Candidate("review", f"review:{kind}", project_id, f"'{kind}' outputs are rejected in review",
                         summary, [_evidence("review", r["id"], r["title"], f"{r['state']}: {r['decision_reason']}",
                                             r["decided_at"]) for r in group[:MAX_EVIDENCE]], len(group))

    return len(rows), _group(rows, lambda r: (r["project_id"], r["kind"]), make)


async def scan_scenarios(s: AsyncSession, scope: Scope) -> tuple[int, list[Candidate]] | None:
    res, run = _table("scenario_results"), _table("scenario_runs")
    if res is None or run is None:
        return None
    rows = await _fetch(s, select(res.c.id, res.c.scenario_id, res.c.name, res.c.agent, res.c.outcome, res.c.error,
                                  res.c.findings, res.c.created_at, run.c.project_id)
                        .join(run, run.c.id == res.c.run_id)
                        .where(res.c.outcome.in_(("failed", "error")), res.c.created_at >= scope.since,
                               scope.where(run.c.project_id, run.c.actor_id))
                        .order_by(res.c.created_at.desc(), res.c.id))

    def detail(r: dict[str, Any]) -> str:
        if r["error"]:
            return f"error: {r['error']}"
        failed = [f"{f['check']}: {f['message']}" for f in r["findings"] or [] if not f.get("passed")]
        return "failed " + "; ".join(failed) if failed else r["outcome"]

    def make(key: tuple[str | None, str], group: list[dict[str, Any]]) -> Candidate:
        project_id, scenario_id = key
        first = group[0]
        return Candidate("scenario", f"agent:{first['agent']}/scenario:{scenario_id}", project_id,
                         f"Agent '{first['agent']}' fails scenario '{first['name']}'",
                         f"{len(group)} failed run(s) of scenario {scenario_id}; latest: {detail(first)}",
                         [_evidence("scenario", r["id"], r["name"], detail(r), r["created_at"])
                          for r in group[:MAX_EVIDENCE]], len(group))

    return len(rows), _group(rows, lambda r: (r["project_id"], r["scenario_id"]), make)


async def scan_validations(s: AsyncSession, scope: Scope) -> tuple[int, list[Candidate]] | None:
    t = _table("validation_runs")
    if t is None:
        return None
    rows = await _fetch(s, select(t.c.id, t.c.label, t.c.score, t.c.findings, t.c.project_id, t.c.created_at)
                        .where(t.c.passed.is_(False), t.c.source != "testing", t.c.created_at >= scope.since,
                               scope.where(t.c.project_id, t.c.actor_id))
                        .order_by(t.c.created_at.desc(), t.c.id))

    def first_failed(r: dict[str, Any]) -> str:
        return next((f["check"] for f in r["findings"] or [] if not f.get("passed")), "threshold")

    def make(key: tuple[str | None, str], group: list[dict[str, Any]]) -> Candidate:
        project_id, check = key
        return Candidate("validation", f"validation:{check}", project_id, f"Outputs fail the '{check}' check",
                         f"{len(group)} validation run(s) failed on {check}",
                         [_evidence("validation", r["id"], r["label"] or "validation run", f"score {r['score']}",
                                    r["created_at"]) for r in group[:MAX_EVIDENCE]], len(group))

    return len(rows), _group(rows, lambda r: (r["project_id"], first_failed(r)), make)


async def scan_tasks(s: AsyncSession, scope: Scope) -> tuple[int, list[Candidate]] | None:
    t = _table("tasks")
    if t is None or not {"status", "project_id", "updated_at", "title"} <= set(t.c.keys()):
        return None
    reason = t.c.status_reason if "status_reason" in t.c else t.c.title
    rows = await _fetch(s, select(t.c.id, t.c.title, t.c.project_id, t.c.updated_at, reason.label("reason"))
                        .where(t.c.status == "failed", t.c.updated_at >= scope.since,
                               scope.where(t.c.project_id, None))
                        .order_by(t.c.updated_at.desc(), t.c.id))

    def make(key: tuple[str | None], group: list[dict[str, Any]]) -> Candidate:
        (project_id,) = key
        return Candidate("task", "tasks:failed", project_id, "Tasks fail in this project",
                         f"{len(group)} task(s) ended failed",
                         [_evidence("task", r["id"], r["title"], r["reason"] or "failed", r["updated_at"])
                          for r in group[:MAX_EVIDENCE]], len(group))

    return len(rows), _group(rows, lambda r: (r["project_id"],), make)


async def scan_feedback(s: AsyncSession, scope: Scope) -> tuple[int, list[Candidate]] | None:
    fb, sessions = _table("message_feedback"), _table("chat_sessions")
    if fb is None or sessions is None or not {"rating", "agent", "created_at"} <= set(fb.c.keys()):
        return None
    rows = await _fetch(s, select(fb.c.id, fb.c.agent, fb.c.comment, fb.c.created_at, sessions.c.project_id)
                        .join(sessions, sessions.c.id == fb.c.session_id)
                        .where(fb.c.rating == "down", fb.c.created_at >= scope.since,
                               scope.where(sessions.c.project_id, fb.c.user_id))
                        .order_by(fb.c.created_at.desc(), fb.c.id))

    def make(key: tuple[str | None, str], group: list[dict[str, Any]]) -> Candidate:
        project_id, agent = key
        return Candidate("feedback", f"agent:{agent}", project_id, f"Users rate '{agent}' answers down",
                         f"{len(group)} thumbs-down rating(s) of {agent}",
                         [_evidence("feedback", r["id"], f"feedback on {agent}", r["comment"] or "thumbs down",
                                    r["created_at"]) for r in group[:MAX_EVIDENCE]], len(group))

    return len(rows), _group(rows, lambda r: (r["project_id"], r["agent"] or "unknown"), make)


SOURCES = {
    "review": scan_reviews,
    "scenario": scan_scenarios,
    "validation": scan_validations,
    "task": scan_tasks,
    "feedback": scan_feedback,
}
