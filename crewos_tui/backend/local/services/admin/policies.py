"""Agent namespace policies and team tool configs, and the rules other code asks about.

- A namespace policy says which knowledge namespaces an agent may read and write
  (patterns, ``*`` = any characters). No policy = unrestricted. The caller's own
  namespace grants still apply on top: a policy only ever narrows.
- A team tool config says which agents and tools (skill ids) a team may use.
  No config (or None in a field) = everything. Chat enforces it through the agent
  guard ``team_tool_guard``: a run of an agent the team may not use, or of an agent
  none of whose skills it may use, is refused (403).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Forbidden, Invalid, NotFound
from ....principal import Principal
from ....schemas import Page
from ....schemas.admin import (
    AgentNamespacePolicy,
    AgentNamespacePolicyUpdate,
    TeamToolConfig,
    TeamToolConfigUpdate,
)
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...pagination import check_limit, decode_cursor, encode_cursor
from ...tables import AgentNamespacePolicyRow, TeamToolConfigRow, UserRow
from .._common import require_admin
from .known import agent_names, require_agent, skill_ids
from .users import check_patterns, check_team

MAX_TOOLS = 200


def _page_of(items: list, key, limit: int, cursor: str | None) -> Page:
    """A page over a small, fully known, sorted list (agents, teams)."""
    check_limit(limit)
    if cursor:
        after = decode_cursor(cursor, 1)[0]
        items = [i for i in items if key(i) > after]
    page = items[:limit]
    return Page[Any](items=page, next_cursor=encode_cursor([key(page[-1])]) if len(items) > limit else None)


def policy_model(agent: str, row: AgentNamespacePolicyRow | None) -> AgentNamespacePolicy:
    if row is None:
        return AgentNamespacePolicy(agent=agent, read=["*"], write=["*"], is_default=True)
    return AgentNamespacePolicy(agent=agent, read=list(row.read), write=list(row.write), is_default=False,
                                updated_at=row.updated_at, updated_by=row.updated_by)


def tool_config_model(team: str, row: TeamToolConfigRow | None, users: int) -> TeamToolConfig:
    if row is None:
        return TeamToolConfig(team=team, is_default=True, user_count=users)
    return TeamToolConfig(team=team, allowed_agents=row.allowed_agents, allowed_tools=row.allowed_tools,
                          is_default=False, user_count=users, updated_at=row.updated_at, updated_by=row.updated_by)


# ---- the rules (read by agents, knowledge and chat) ---------------------------------------------


async def agent_may_access(s: AsyncSession, agent: str, namespace: str, mode: str = "read") -> bool:
    """May ``agent`` read (``mode="read"``) or write ``namespace`` under its policy?"""
    row = await s.get(AgentNamespacePolicyRow, agent)
    if row is None:
        return True
    patterns = row.write if mode == "write" else row.read
    return any(fnmatchcase(namespace, p) for p in patterns)


async def require_agent_access(s: AsyncSession, agent: str, namespace: str, mode: str = "read") -> None:
    if not await agent_may_access(s, agent, namespace, mode):
        raise Forbidden(f"agent {agent!r} may not {mode} namespace {namespace!r} (agent namespace policy)")


async def team_may_use(s: AsyncSession, team: str, agent: str | None = None, tool: str | None = None) -> bool:
    row = await s.get(TeamToolConfigRow, team)
    if row is None:
        return True
    if agent is not None and row.allowed_agents is not None and agent not in row.allowed_agents:
        return False
    return not (tool is not None and row.allowed_tools is not None and tool not in row.allowed_tools)


async def team_tool_guard(s: AsyncSession, principal: Principal, agent: str, prompt: str,
                          project_id: str | None) -> None:
    """Agent guard: refuse a run of an agent the caller's team may not use."""
    if principal.auth_method == "system":
        return
    if not await team_may_use(s, principal.team, agent=agent):
        raise Forbidden(f"team {principal.team!r} may not use agent {agent!r}; an admin can allow it in the "
                        "team's tool config")
    # Tools are the agents' skills: an agent none of whose skills the team may use is refused too.
    from ...agents.registry import get_agent

    skills = [skill.id for skill in get_agent(agent).skills]
    allowed = [t for t in skills if await team_may_use(s, principal.team, tool=t)]
    if skills and not allowed:
        raise Forbidden(f"team {principal.team!r} may not use any tool of agent {agent!r} "
                        f"({', '.join(skills)}); an admin can allow them in the team's tool config")


# ---- admin endpoints ------------------------------------------------------------------------------


class AdminPolicies:
    ctx: ServiceContext

    async def list_agent_namespace_policies(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[AgentNamespacePolicy]:
        """Every known agent with its policy (the default when none is stored)."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            rows = {r.agent: r for r in (await s.scalars(select(AgentNamespacePolicyRow))).all()}
        items = [policy_model(name, rows.get(name)) for name in sorted(set(agent_names()) | set(rows))]
        return _page_of(items, lambda p: p.agent, limit, cursor)

    async def update_agent_namespace_policy(
        self, principal: Principal, agent_name: str, data: AgentNamespacePolicyUpdate
    ) -> AgentNamespacePolicy:
        """Replace an agent's read and write namespace patterns."""
        require_admin(principal)
        agent = require_agent(agent_name)
        read = check_patterns(data.read, "read")
        write = check_patterns(data.write, "write")
        async with self.ctx.db.transaction() as s:
            row = await s.get(AgentNamespacePolicyRow, agent)
            now = self.ctx.clock.now()
            if row is None:
                row = AgentNamespacePolicyRow(agent=agent, read=read, write=write, updated_at=now,
                                              updated_by=principal.username)
                s.add(row)
            else:
                row.read, row.write, row.updated_at, row.updated_by = read, write, now, principal.username
            await self.ctx.events.emit(s, principal, "agent_namespace_policy.updated", "agent", agent,
                                       agent=agent, read=read, write=write)
            return policy_model(agent, row)

    async def list_tool_configs(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[TeamToolConfig]:
        """Every team (from users and stored configs) with its tool config."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            counts = dict((await s.execute(select(col(UserRow.team), func.count()).group_by(col(UserRow.team)))).all())
            rows = {r.team: r for r in (await s.scalars(select(TeamToolConfigRow))).all()}
        items = [tool_config_model(t, rows.get(t), int(counts.get(t, 0))) for t in sorted(set(counts) | set(rows))]
        return _page_of(items, lambda c: c.team, limit, cursor)

    async def update_tool_config(
        self, principal: Principal, team_id: str, data: TeamToolConfigUpdate
    ) -> TeamToolConfig:
        """Set which agents and tools a team may use (None = all)."""
        require_admin(principal)
        team = check_team(team_id, "team_id")
        agents = tools = None
        if data.allowed_agents is not None:
            agents = sorted({require_agent(a) for a in data.allowed_agents})
        if data.allowed_tools is not None:
            tools = check_patterns(data.allowed_tools, "allowed_tools", MAX_TOOLS)
            unknown = [t for t in tools if t not in skill_ids()]
            if unknown:
                raise Invalid(f"allowed_tools: unknown tool(s) {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(skill_ids()))})")
        async with self.ctx.db.transaction() as s:
            users = int(await s.scalar(select(func.count()).select_from(UserRow).where(col(UserRow.team) == team)) or 0)
            row = await s.get(TeamToolConfigRow, team)
            if row is None and not users:
                raise NotFound(f"team {team!r} not found (no user belongs to it)")
            now = self.ctx.clock.now()
            if row is None:
                row = TeamToolConfigRow(team=team, allowed_agents=agents, allowed_tools=tools, updated_at=now,
                                        updated_by=principal.username)
                s.add(row)
            else:
                row.allowed_agents, row.allowed_tools = agents, tools
                row.updated_at, row.updated_by = now, principal.username
            await self.ctx.events.emit(s, principal, "team_tool_config.updated", "team", team, team=team,
                                       allowed_agents=agents, allowed_tools=tools)
            return tool_config_model(team, row, users)
