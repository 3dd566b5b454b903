"""The semantic cache of agent answers (``ctx.answer_cache``) and its admin endpoints.

Key = sha256 of (normalised prompt, agent, scope, data version):

- the prompt is normalised (Unicode NFKC, case-folded, whitespace collapsed, trailing
  punctuation dropped), so "Prepare the project update!" and "prepare  the project
  update" share an entry;
- scope = the project, or — for answers without a project, which are personal (the
  helper lists *your* pending work) — the user;
- data version = the id of the last domain event that changed that project's data
  (``data_versions``, kept by an in-transaction handler). Any such change makes old
  entries unreachable; talking (chat, sessions, agent runs, feedback) does not.

Used by the agents runtime when ``cache_enabled`` is on in the LLM config: ``get``
before a run, ``put`` after a complete one. Hits and misses are counted from the
runtime's ``agent.run_completed`` events (``cached`` true or false), in the same
transaction as the run, since ``get`` may run in a read-only session.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import NotFound
from ....principal import Principal
from ....schemas.admin import (
    CacheAgentStats,
    CacheInvalidate,
    CacheInvalidated,
    CacheStats,
)
from ...context import ServiceContext
from ...events import DomainEvent
from ...tables import AnswerCacheCounterRow, AnswerCacheRow, DataVersionRow, ProjectRow
from .._common import require_admin
from .budget import RUN_COMPLETED
from .known import require_agent
from .llm import LLM_DEFAULTS, LLM_KEY
from .settings_store import load_setting

GLOBAL_SCOPE = "*"
#: Event kinds that do not change what agents read: conversation, sign-in traffic and
#: job progress ticks.
NOT_DATA = ("agent.run", "chat.", "session.", "feedback.", "cache.", "auth.", "api_key.", "agent_job.progress")
MAX_ENTRIES = 10_000
_SPACE = re.compile(r"\s+")


def normalise_prompt(prompt: str) -> str:
    text = unicodedata.normalize("NFKC", prompt).casefold()
    return _SPACE.sub(" ", text).strip().rstrip("?!.;: ").strip()


def cache_key(prompt: str, agent: str, scope: str, version: str) -> str:
    raw = json.dumps([normalise_prompt(prompt), agent, scope, version], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class CachedAnswer:
    """What ``get`` returns; the runtime reads ``text``, ``model``, ``sources``, ``data``."""

    text: str
    model: str
    sources: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


async def data_version(s: AsyncSession, project_id: str | None) -> str:
    return await s.scalar(select(col(DataVersionRow.version)).where(
        col(DataVersionRow.scope) == (project_id or GLOBAL_SCOPE))) or "0"


async def track_data_version(s: AsyncSession, event: DomainEvent) -> None:
    """In-transaction handler: remember the last data-changing event per project and overall."""
    if event.kind.startswith(NOT_DATA):
        return
    for scope in {GLOBAL_SCOPE, event.project_id or GLOBAL_SCOPE}:
        row = await s.get(DataVersionRow, scope)
        if row is None:
            s.add(DataVersionRow(scope=scope, version=event.id))
        else:
            row.version = event.id


async def cache_enabled(s: AsyncSession) -> tuple[bool, int]:
    options, _ = await load_setting(s, LLM_KEY, LLM_DEFAULTS)
    return bool(options["cache_enabled"]), int(options["cache_ttl_seconds"])


async def count_hit_or_miss(s: AsyncSession, event: DomainEvent) -> None:
    """In-transaction handler: a run answered from the cache is a hit; any other run while
    the cache is on is a miss."""
    if event.kind != RUN_COMPLETED:
        return
    hit = bool((event.data or {}).get("cached"))
    if not hit and not (await cache_enabled(s))[0]:
        return
    agent = str((event.data or {}).get("agent") or "unknown")
    row = await s.get(AnswerCacheCounterRow, agent)
    if row is None:
        row = AnswerCacheCounterRow(agent=agent, hits=0, misses=0)
        s.add(row)
    if hit:
        row.hits = (row.hits or 0) + 1
    else:
        row.misses = (row.misses or 0) + 1


class AnswerCache:
    """``ctx.answer_cache``: the interface the agents runtime calls."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def _scope(self, s: AsyncSession, principal: Principal, project_id: str | None) -> tuple[str, str]:
        scope = project_id if project_id else f"user:{principal.user_id or principal.username}"
        return scope, await data_version(s, project_id)

    async def get(self, session: AsyncSession, principal: Principal, *, agent: str, prompt: str,
                  project_id: str | None = None) -> CachedAnswer | None:
        """A fresh answer for the same question on the same data, or None. Reads only."""
        enabled, _ttl = await cache_enabled(session)
        if not enabled:
            return None
        scope, version = await self._scope(session, principal, project_id)
        row = await session.get(AnswerCacheRow, cache_key(prompt, agent, scope, version))
        if row is None or _aware(row.expires_at) <= self.ctx.clock.now():
            return None
        return CachedAnswer(text=row.answer, model=row.model, sources=list(row.sources or []),
                            data=dict(row.data or {}))

    async def put(self, session: AsyncSession, principal: Principal, *, agent: str, prompt: str,
                  project_id: str | None = None, answer: Any = None) -> None:
        """Keep a complete answer (never a cancelled or empty one) until the TTL or a data change."""
        text = getattr(answer, "text", answer)
        if not isinstance(text, str) or not text or getattr(answer, "cancelled", False):
            return
        enabled, ttl = await cache_enabled(session)
        if not enabled:
            return
        now = self.ctx.clock.now()
        scope, version = await self._scope(session, principal, project_id)
        key = cache_key(prompt, agent, scope, version)
        row = await session.get(AnswerCacheRow, key)
        if row is None:
            row = AnswerCacheRow(key=key, agent=agent, project_id=project_id, data_version=version,
                                 prompt=normalise_prompt(prompt), answer=text, created_at=now,
                                 expires_at=now + timedelta(seconds=ttl))
            session.add(row)
        row.user_id = None if project_id else principal.user_id
        row.answer, row.model = text, str(getattr(answer, "model", "builtin"))
        row.sources = list(getattr(answer, "sources", []) or [])
        row.data = json.loads(json.dumps(getattr(answer, "data", {}) or {}, default=str))
        row.bytes = len(text.encode("utf-8"))
        row.created_at, row.expires_at = now, now + timedelta(seconds=ttl)
        await session.flush()
        await session.execute(delete(AnswerCacheRow).where(col(AnswerCacheRow.expires_at) <= now))
        count = int(await session.scalar(select(func.count()).select_from(AnswerCacheRow)) or 0)
        if count > MAX_ENTRIES:  # evict the oldest beyond the cap
            oldest = select(col(AnswerCacheRow.key)).order_by(col(AnswerCacheRow.created_at)).limit(count - MAX_ENTRIES)
            await session.execute(delete(AnswerCacheRow).where(col(AnswerCacheRow.key).in_(oldest)))


class AdminCache:
    ctx: ServiceContext

    async def cache_stats(self, principal: Principal) -> CacheStats:
        """Entries, bytes, hits, misses and hit rate, overall and by agent."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            enabled, _ttl = await cache_enabled(s)
            # Stored entries (expired ones go at the next store; a lookup never returns them).
            sizes = (await s.execute(
                select(col(AnswerCacheRow.agent), func.count(), func.coalesce(func.sum(col(AnswerCacheRow.bytes)), 0))
                .group_by(col(AnswerCacheRow.agent)))).all()
            counters = (await s.scalars(select(AnswerCacheCounterRow))).all()
        agents: dict[str, CacheAgentStats] = {}
        for agent, n, size in sizes:
            agents[agent] = CacheAgentStats(agent=agent, entries=int(n), bytes=int(size))
        for c in counters:
            st = agents.setdefault(c.agent, CacheAgentStats(agent=c.agent))
            st.hits, st.misses = int(c.hits), int(c.misses)
        by_agent = [agents[k] for k in sorted(agents)]
        hits, misses = sum(a.hits for a in by_agent), sum(a.misses for a in by_agent)
        return CacheStats(enabled=enabled, entries=sum(a.entries for a in by_agent),
                          bytes=sum(a.bytes for a in by_agent), hits=hits, misses=misses,
                          hit_rate=round(hits / (hits + misses), 4) if hits + misses else 0.0, by_agent=by_agent)

    async def invalidate_cache(self, principal: Principal, data: CacheInvalidate) -> CacheInvalidated:
        """Drop cached answers: all, or those of an agent and/or a project."""
        require_admin(principal)
        agent = require_agent(data.agent) if data.agent is not None else None
        async with self.ctx.db.transaction() as s:
            if data.project_id is not None and await s.get(ProjectRow, data.project_id) is None:
                raise NotFound(f"project {data.project_id} not found")
            stmt = delete(AnswerCacheRow)
            if agent is not None:
                stmt = stmt.where(col(AnswerCacheRow.agent) == agent)
            if data.project_id is not None:
                stmt = stmt.where(col(AnswerCacheRow.project_id) == data.project_id)
            removed = int(cast(CursorResult[Any], await s.execute(stmt)).rowcount or 0)
            await self.ctx.events.emit(s, principal, "cache.invalidated", "answer_cache", agent or "*",
                                       data.project_id, agent=agent, removed=removed)
            return CacheInvalidated(removed=removed, agent=agent, project_id=data.project_id)
