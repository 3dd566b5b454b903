"""The knowledge base for built-in agents, under the admin's agent namespace policies.

An agent acts for a caller: it sees at most the caller's namespaces, narrowed by
the agent's policy (``/auth/agent-namespace-policies``: read and write patterns; no
policy = the caller's namespaces unchanged). Agents call these functions with the
``ServiceContext`` and, when they have one, their database session::

    from crewos_tui.backend.local.services.knowledge.agents import agent_retrieve
    context = await agent_retrieve(ctx, principal, "helper", "how do durable jobs resume?", session=s)
    for item in context.items: ...  # entry, score, hop, path

``agent_search`` and ``agent_retrieve`` answer like ``/knowledge/search`` and
``/knowledge/retrieve``; a namespace the policy does not allow is 404 when asked for
by name and otherwise simply not searched. ``agent_add_entry`` writes an entry when
both the caller's grants and the policy's write patterns allow (else 403).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from ....errors import Forbidden
from ....principal import Principal
from ....schemas.knowledge import (
    KnowledgeEntry,
    KnowledgeEntryCreate,
    KnowledgeRetrieve,
    KnowledgeSearch,
    KnowledgeSearchResults,
    RetrievalResult,
)
from ...context import ServiceContext
from .access import agent_may_write, agent_scope, ensure_namespace, scope_of
from .entries import full_entry
from .search import run_retrieve, run_search
from .writes import EntryWriter


@contextlib.asynccontextmanager
async def _reading(ctx: ServiceContext, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    if session is not None:
        yield session
    else:
        async with ctx.db.read() as s:
            yield s


async def agent_namespaces(ctx: ServiceContext, principal: Principal, agent: str,
                           session: AsyncSession | None = None) -> list[str]:
    """The namespaces ``agent`` may read for ``principal``."""
    async with _reading(ctx, session) as s:
        return list((await agent_scope(s, principal, agent)).visible)


async def agent_search(ctx: ServiceContext, principal: Principal, agent: str, query: str, *,
                       namespaces: list[str] | None = None, tags: list[str] | None = None, limit: int = 10,
                       session: AsyncSession | None = None,
                       match: Literal["all", "any", "fts5"] = "any") -> KnowledgeSearchResults:
    data = KnowledgeSearch(query=query, namespaces=namespaces, tags=tags, match=match, limit=limit)
    async with _reading(ctx, session) as s:
        return await run_search(s, await agent_scope(s, principal, agent), data)


async def agent_retrieve(ctx: ServiceContext, principal: Principal, agent: str, query: str, *,
                         namespaces: list[str] | None = None, hops: int = 1, limit: int = 8,
                         session: AsyncSession | None = None) -> RetrievalResult:
    data = KnowledgeRetrieve(query=query, namespaces=namespaces, hops=hops, limit=limit)
    async with _reading(ctx, session) as s:
        return await run_retrieve(s, await agent_scope(s, principal, agent), data)


async def agent_add_entry(ctx: ServiceContext, principal: Principal, agent: str,
                          data: KnowledgeEntryCreate) -> KnowledgeEntry:
    """Write an entry on the caller's behalf, if the agent's policy allows writing there."""
    async with ctx.db.transaction() as s:
        if not await agent_may_write(s, principal, agent, data.namespace):
            raise Forbidden(f"agent {agent!r} may not write namespace {data.namespace!r} "
                            "(the caller's grants or the agent namespace policy)")
        scope = await scope_of(s, principal)
        await ensure_namespace(s, scope, data.namespace, ctx.clock.now())
        row = await EntryWriter(ctx, s, principal).add(data.namespace, data.title, data.body, data.tags,
                                                        data.visibility.value)
        await s.flush()
        await ctx.events.emit(s, principal, "knowledge.entry_created", "knowledge_entry", row.id,
                              namespace=row.namespace, title=row.title, user_id=principal.user_id, agent=agent)
        return await full_entry(s, scope, row)
