"""The reporter: a markdown project update from the project's own data.

With a project it reports tasks, reviews, documents, the ledger (each when that
slice's table exists), what needs attention and recent activity. Without one it
gives an overview of the caller's projects. Same data, same words.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col as sql_col

from ...token_units import format_units
from ..tables import (
    AccessRequestRow,
    DocumentRow,
    DomainEventRow,
    FolderUpdateRow,
    ProjectMemberRow,
    ProjectRow,
)
from .facts import AgentInput, col, count_by, rows_of_project, table, text_of
from .registry import AgentSpec, BuiltinResult, SkillSpec, register

STATUS_ORDER = ["blocked", "review", "in_progress", "todo", "failed", "done", "cancelled"]
STATUS_LABEL = {"todo": "to do", "in_progress": "in progress", "review": "in review", "blocked": "blocked",
                "done": "done", "failed": "failed", "cancelled": "cancelled"}
SHOW_PER_STATUS = 5


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} kB"


async def _count(s: AsyncSession, model: Any, *where: Any) -> int:
    return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _tasks_section(s: AsyncSession, project_id: str, sources: list[str]) -> list[str]:
    t = table("tasks")
    if t is None:
        return []
    rows = await rows_of_project(s, t, project_id, limit=2000)
    sources.append(f"tasks:{len(rows)}")
    out = ["## Tasks"]
    if not rows:
        return [*out, "No tasks yet.", ""]
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(text_of(r, "status", "state", default="todo"), []).append(r)
    order = [st for st in STATUS_ORDER if st in by] + sorted(st for st in by if st not in STATUS_ORDER)
    counts = ", ".join(f"{len(by[st])} {STATUS_LABEL.get(st, st)}" for st in order)
    done = len(by.get("done", []))
    out.append(f"{len(rows)} tasks: {counts} ({done * 100 // len(rows)}% done).")
    for st in order:
        if st in ("done", "cancelled"):
            continue
        items = by[st][:SHOW_PER_STATUS]
        titles = "; ".join(text_of(r, "title", "name", default=str(r.get("id"))) for r in items)
        more = f" (+{len(by[st]) - len(items)} more)" if len(by[st]) > len(items) else ""
        out.append(f"- **{STATUS_LABEL.get(st, st).capitalize()}:** {titles}{more}")
    return [*out, ""]


async def _reviews_section(s: AsyncSession, project_id: str, sources: list[str]) -> list[str]:
    t = table("review_items", "reviews", "task_reviews")
    if t is None or col(t, "project_id") is None:
        return []
    status = col(t, "status", "state", "decision")
    out = ["## Reviews"]
    if status is None:
        n = await _count(s, t, t.c.project_id == project_id)
        sources.append(f"reviews:{n}")
        return [*out, f"{n} review records.", ""]
    counts = await count_by(s, t, status, t.c.project_id == project_id)
    sources.append(f"reviews:{sum(counts.values())}")
    if not counts:
        return [*out, "No reviews yet.", ""]
    return [*out, ", ".join(f"{n} {k}" for k, n in counts.items()) + ".", ""]


async def _documents_section(s: AsyncSession, project_id: str, sources: list[str]) -> list[str]:
    docs = (await s.execute(select(sql_col(DocumentRow.filename), sql_col(DocumentRow.folder_path),
                                   sql_col(DocumentRow.size))
                            .where(sql_col(DocumentRow.project_id) == project_id)
                            .order_by(sql_col(DocumentRow.id)))).all()
    sources.append(f"documents:{len(docs)}")
    out = ["## Documents"]
    if not docs:
        return [*out, "No documents uploaded yet.", ""]
    out.append(f"{len(docs)} document{'s' if len(docs) != 1 else ''}:")
    for name, folder, size in docs[:8]:
        out.append(f"- {folder + '/' if folder else ''}{name} ({_size(size)})")
    if len(docs) > 8:
        out.append(f"- … and {len(docs) - 8} more")
    return [*out, ""]


async def _ledger_section(s: AsyncSession, project_id: str, sources: list[str]) -> list[str]:
    t = table("token_transactions", "ledger_entries")
    if t is None or col(t, "project_id") is None:
        return []
    kind, amount = col(t, "kind"), col(t, "amount")
    n = await _count(s, t, t.c.project_id == project_id)
    sources.append(f"ledger:{n}")
    out = ["## Ledger"]
    if not n:
        return [*out, "No token transactions yet.", ""]
    settings = table("token_settings")
    symbol, decimals = "", 0
    if settings is not None and col(settings, "symbol") is not None:
        dec = col(settings, "decimals")
        found = (await s.execute(select(settings.c.symbol, dec if dec is not None else literal(0))
                                 .where(settings.c.project_id == project_id))).first()
        if found is not None:
            symbol, decimals = found[0] or "", int(found[1] or 0)

    def units(amount: int) -> str:
        return format_units(int(amount or 0), decimals)
    out.append(f"{n} transaction{'s' if n != 1 else ''} recorded.")
    if kind is not None and amount is not None:
        rows = (await s.execute(select(kind, func.count(), func.sum(amount)).where(t.c.project_id == project_id)
                                .group_by(kind).order_by(kind))).all()
        for k, count, total in rows:
            out.append(f"- {k}: {count} × totalling {units(total)} {symbol}".rstrip())
    supply = col(t, "supply_after")
    if supply is not None and col(t, "seq") is not None:
        last = await s.scalar(select(supply).where(t.c.project_id == project_id).order_by(t.c.seq.desc()).limit(1))
        if last is not None:
            out.append(f"- supply now: {units(last)} {symbol}".rstrip())
    return [*out, ""]


async def _attention_section(s: AsyncSession, project_id: str) -> list[str]:
    access = await _count(s, AccessRequestRow, sql_col(AccessRequestRow.project_id) == project_id,
                          sql_col(AccessRequestRow.status) == "pending")
    folders = await _count(s, FolderUpdateRow, sql_col(FolderUpdateRow.project_id) == project_id,
                           sql_col(FolderUpdateRow.status) == "pending")
    items = []
    if access:
        items.append(f"- {access} pending access request{'s' if access != 1 else ''}")
    if folders:
        items.append(f"- {folders} proposed folder change{'s' if folders != 1 else ''} awaiting a decision")
    return (["## Needs attention", *items, ""]) if items else []


async def _activity_section(s: AsyncSession, project_id: str) -> list[str]:
    # Talking about the project is not project activity: chat's own events are left out,
    # so asking twice gives the same update.
    quiet = [sql_col(DomainEventRow.kind).not_like(f"{prefix}.%") for prefix in ("agent", "chat", "session")]
    rows = (await s.execute(select(DomainEventRow).where(sql_col(DomainEventRow.project_id) == project_id, *quiet)
                            .order_by(sql_col(DomainEventRow.id).desc()).limit(5))).scalars().all()
    if not rows:
        return []
    out = ["## Recent activity"]
    for ev in rows:
        when = ev.created_at.strftime("%Y-%m-%d %H:%M") if ev.created_at else ""
        out.append(f"- {when} {ev.actor}: {ev.kind.replace('_', ' ').replace('.', ' ')}")
    return [*out, ""]


async def project_update(s: AsyncSession, project: ProjectRow) -> BuiltinResult:
    sources: list[str] = [f"project:{project.id}"]
    members = await _count(s, ProjectMemberRow, sql_col(ProjectMemberRow.project_id) == project.id)
    lines = [f"# Project update: {project.name}", ""]
    lines.append(f"**Status:** {project.status} · {members} member{'s' if members != 1 else ''} · "
                 f"template {project.template}")
    if project.description:
        lines += ["", project.description]
    lines.append("")
    for section in (await _tasks_section(s, project.id, sources), await _reviews_section(s, project.id, sources),
                    await _documents_section(s, project.id, sources), await _ledger_section(s, project.id, sources),
                    await _attention_section(s, project.id), await _activity_section(s, project.id)):
        lines += section
    return BuiltinResult(text="\n".join(lines).rstrip() + "\n", sources=sources)


async def portfolio(inp: AgentInput) -> BuiltinResult:
    p = inp.principal
    stmt = select(ProjectRow).order_by(sql_col(ProjectRow.name_key))
    if not p.is_admin:
        stmt = stmt.join(ProjectMemberRow, and_(sql_col(ProjectMemberRow.project_id) == sql_col(ProjectRow.id),
                                                sql_col(ProjectMemberRow.user_id) == p.user_id))
    projects = (await inp.session.execute(stmt.limit(50))).scalars().all()
    lines = ["# Update across your projects", ""]
    if not projects:
        return BuiltinResult(text="# Update across your projects\n\nYou are not a member of any project yet.\n")
    tasks = table("tasks")
    for pr in projects:
        docs = await _count(inp.session, DocumentRow, sql_col(DocumentRow.project_id) == pr.id)
        detail = f"{docs} document{'s' if docs != 1 else ''}"
        status = col(tasks, "status", "state") if tasks is not None else None
        if tasks is not None and status is not None and col(tasks, "project_id") is not None:
            counts = await count_by(inp.session, tasks, status, tasks.c.project_id == pr.id)
            total = sum(counts.values())
            detail = f"{total} tasks ({counts.get('done', 0)} done), " + detail
        lines.append(f"- **{pr.name}** ({pr.status}): {detail}")
    lines += ["", "Ask again with a project chosen for a full update."]
    return BuiltinResult(text="\n".join(lines) + "\n", sources=[f"project:{pr.id}" for pr in projects])


async def produce(inp: AgentInput) -> BuiltinResult:
    if inp.project is None:
        return await portfolio(inp)
    return await project_update(inp.session, inp.project)


register(AgentSpec(
    name="reporter",
    title="Reporter",
    description="Writes a markdown project update from the project's tasks, reviews, documents and ledger.",
    tags=("reporting", "status"),
    examples=("Prepare the project update", "Summarise progress this week"),
    produce=produce,
    skills=(
        SkillSpec(id="project-update", name="Project update",
                  description="A markdown status update for one project, built from its own data.",
                  tags=("report", "status", "markdown"),
                  examples=("Prepare the project update",)),
        SkillSpec(id="portfolio-overview", name="Portfolio overview",
                  description="One line per project you belong to, with task and document counts.",
                  tags=("report", "overview"), examples=("Give me a status summary of my projects",)),
    ),
))
