"""The ``project_update`` job: a markdown project update from the project's tasks,
their timeline and review decisions. Deterministic for the same data; reads with
aggregate queries and short, ordered samples, so a 10,000-task project is cheap.
Saved as a document, it is named after the job, so an attempt after a crash that
finds the document keeps it (and says the work was already done).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlmodel import col

from ....errors import Invalid
from ....principal import Principal
from ....schemas.agent_jobs import AgentJobCreate
from ...tables import DocumentRow, TaskAgentRunRow, TaskEventRow, TaskRow
from ..projects.access import load_project
from .lifecycle import BOARD_COLUMNS, HIDDEN_COLUMNS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from ...context import ServiceContext
    from ...jobs import JobContext, PreparedJob

SAMPLE = 8
LABELS = {"todo": "To do", "in_progress": "In progress", "review": "In review", "blocked": "Blocked",
          "done": "Done", "failed": "Failed", "cancelled": "Cancelled"}
DECISIONS = {"review_approved": "approved", "review_rework_requested": "sent back for rework",
             "review_blocked": "blocked"}


async def prepare(ctx: ServiceContext, s: AsyncSession, principal: Principal, data: AgentJobCreate) -> PreparedJob:
    from ...jobs import PreparedJob

    if not data.project_id:
        raise Invalid("a project_update job needs project_id")
    acc = await load_project(s, principal, data.project_id)
    acc.at_least("editor", principal, "writing project updates")
    unknown = set(data.params) - {"save_as_document"}
    if unknown:
        raise Invalid(f"unknown params for project_update: {', '.join(sorted(unknown))} (allowed: save_as_document)")
    if data.params.get("save_as_document"):
        acc.writable()
    return PreparedJob(data.project_id, None, {"save_as_document": bool(data.params.get("save_as_document"))})


async def _counts(s: AsyncSession, project_id: str) -> dict[str, int]:
    rows = await s.execute(select(col(TaskRow.status), func.count()).where(col(TaskRow.project_id) == project_id)
                           .group_by(col(TaskRow.status)))
    return {str(k): int(n) for k, n in rows.all()}


async def _titles(s: AsyncSession, project_id: str, status: str) -> list[TaskRow]:
    return list((await s.scalars(select(TaskRow)
                                 .where(col(TaskRow.project_id) == project_id, col(TaskRow.status) == status)
                                 .order_by(col(TaskRow.priority_rank), col(TaskRow.position), col(TaskRow.id))
                                 .limit(SAMPLE))).all())


async def _recent(s: AsyncSession, project_id: str, kinds: tuple[str, ...]) -> list[tuple[TaskEventRow, str]]:
    rows = await s.execute(select(TaskEventRow, col(TaskRow.title))
                           .join(TaskRow, col(TaskRow.id) == col(TaskEventRow.task_id))
                           .where(col(TaskRow.project_id) == project_id, col(TaskEventRow.kind).in_(kinds))
                           .order_by(col(TaskEventRow.id).desc()).limit(SAMPLE))
    return [(r[0], r[1]) for r in rows.all()]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _bullets(rows: list[TaskRow], more: int, note: Any = None) -> list[str]:
    out = [f"- **{t.title}**" + (f" — {note(t)}" if note and note(t) else "") for t in rows]
    if more > len(rows):
        out.append(f"- … and {more - len(rows)} more")
    return out


async def build_update(job: JobContext) -> dict[str, Any]:
    project_id = job.job.project_id
    assert project_id is not None
    await job.progress(10, "counting tasks")
    async with job.ctx.db.read() as s:
        acc = await load_project(s, job.principal, project_id)
        name = acc.project.name
        counts = await _counts(s, project_id)
        samples = {st: await _titles(s, project_id, st) for st in ("review", "blocked", "in_progress", "failed")}
    await job.progress(40, "reading the timeline")
    async with job.ctx.db.read() as s:
        decisions = await _recent(s, project_id, tuple(DECISIONS))
        finished = await _recent(s, project_id, ("review_approved",))
        tokens = (await s.execute(select(func.coalesce(func.sum(col(TaskAgentRunRow.input_tokens)), 0),
                                         func.coalesce(func.sum(col(TaskAgentRunRow.output_tokens)), 0),
                                         func.count()).where(col(TaskAgentRunRow.project_id) == project_id))).one()
    await job.progress(70, "writing the update")
    total = sum(counts.values())
    done = counts.get("done", 0)
    lines = [f"# Project update: {name}", ""]
    if not total:
        lines += ["No tasks yet. Add tasks on the board to track the work.", ""]
    else:
        pct = done * 100 // total
        summary = ", ".join(f"{counts[s.value]} {LABELS[s.value].lower()}"
                            for s in (*BOARD_COLUMNS, *HIDDEN_COLUMNS) if counts.get(s.value))
        lines += ["## Summary", f"{_n(total, 'task')}, {pct}% done: {summary}.", ""]
    sections = [
        ("Waiting for review", "review", None),
        ("Blocked", "blocked", lambda t: t.status_reason),
        ("In progress", "in_progress", None),
        ("Failed", "failed", lambda t: t.status_reason),
    ]
    for title, status, note in sections:
        if counts.get(status):
            lines += [f"## {title}", *_bullets(samples[status], counts[status], note), ""]
    if finished:
        lines += ["## Recently completed", *[f"- **{t}** (approved by {e.actor})" for e, t in finished], ""]
    if decisions:
        lines.append("## Review decisions")
        for e, t in decisions:
            lines.append(f"- {e.actor} {DECISIONS[e.kind]} **{t}**" + (f": {e.message}" if e.message else ""))
        lines.append("")
    if tokens[2]:
        lines += ["## Agent work", f"{_n(tokens[2], 'agent run')} used {tokens[0] + tokens[1]} tokens "
                  f"({tokens[0]} in, {tokens[1]} out).", ""]
    markdown = "\n".join(lines).rstrip() + "\n"
    result: dict[str, Any] = {"project_id": project_id, "markdown": markdown, "counts": counts}
    if job.params.get("save_as_document"):
        filename = f"project-update-{job.job.id[-8:].lower()}.md"  # this job's own document
        async with job.ctx.db.read() as s:
            saved = await s.scalar(select(DocumentRow).where(col(DocumentRow.project_id) == project_id,
                                                             col(DocumentRow.filename) == filename))
        if saved is not None:  # an earlier attempt saved it, then stopped before the job was marked done
            note = f"already done by an earlier attempt (document {saved.filename})"
            await job.progress(95, note)
            return {**result, "markdown": saved.text or "", "document_id": saved.id, "already_done": True,
                    "note": note}
        await job.progress(90, "saving the update as a document")
        doc = await job.services.projects.upload_document(job.principal, project_id, filename, markdown.encode(),
                                                          content_type="text/markdown")
        result["document_id"] = doc.id
    return result
