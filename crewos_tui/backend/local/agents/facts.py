"""What the built-in agents read: the workspace's own rows, tolerant of slices not present.

Tables of other slices (tasks, reviews, ledger, notifications) are looked up by
name in the SQLModel metadata and read through their columns only when those
exist, so an agent keeps working while a slice is absent or still changing. All
reads are ordered, so the same data gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from ...principal import Principal
from ..context import ServiceContext
from ..tables import ProjectRow


@dataclass
class AgentInput:
    ctx: ServiceContext
    session: AsyncSession
    principal: Principal
    prompt: str
    project: ProjectRow | None


def table(*names: str) -> Table | None:
    """The first of ``names`` that is a known table (a slice may not be installed)."""
    for name in names:
        t = SQLModel.metadata.tables.get(name)
        if t is not None:
            return t
    return None


def col(t: Table, *names: str) -> Any:
    """The first existing column of ``names``, or None."""
    for name in names:
        if name in t.c:
            return t.c[name]
    return None


async def rows_of_project(s: AsyncSession, t: Table, project_id: str, limit: int = 500) -> list[dict[str, Any]]:
    pid = col(t, "project_id")
    if pid is None:
        return []
    order = col(t, "id")
    stmt = select(t).where(pid == project_id)
    if order is not None:
        stmt = stmt.order_by(order)
    return [dict(r._mapping) for r in (await s.execute(stmt.limit(limit))).all()]


async def count_by(s: AsyncSession, t: Table, group: Any, *where: Any) -> dict[str, int]:
    stmt = select(group, func.count()).select_from(t).where(*where).group_by(group).order_by(group)
    return {str(k): int(n) for k, n in (await s.execute(stmt)).all()}


def text_of(row: dict[str, Any], *names: str, default: str = "") -> str:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return str(value)
    return default


async def knowledge_hits(inp: AgentInput, agent: str, limit: int = 3) -> list[Any]:
    """The knowledge entries that best match the prompt, as ``agent`` may read them for
    the caller: the caller's namespace grants narrowed by the agent's namespace policy
    (``/auth/agent-namespace-policies``). Empty when nothing matches or the prompt has no
    searchable words."""
    from ...errors import CrewOSError
    from ..services.knowledge.agents import agent_search
    from ..services.knowledge.terms import words as salient_words

    # Only the prompt's distinctive words (the knowledge slice's own stopword filter), all
    # of them: "What is waiting for me?" must not cite every entry that contains "is".
    words = list(dict.fromkeys(salient_words(inp.prompt)))
    if not words:
        return []
    query = " ".join(words)[:QUERY_CHARS]
    try:
        found = await agent_search(inp.ctx, inp.principal, agent, query, limit=limit, session=inp.session,
                                   match="all")
    except (CrewOSError, ValueError):  # a prompt that is no search (only punctuation, too long…)
        return []
    return list(found.items)


#: The longest search an agent makes from a prompt (characters).
QUERY_CHARS = 300

