"""Agent discovery over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import AgentCard, AgentInfo, AgentSkill, Page, SkillDiscovery
from ..schemas.common import DEFAULT_LIMIT
from .http import API, as_model, as_page, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteAgents:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    async def list(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[AgentInfo]:
        return as_page(AgentInfo, await self._b.request("GET", f"{API}/agents", params=paging(limit, cursor)))

    async def get(self, name: str) -> AgentInfo:
        return as_model(AgentInfo, await self._b.request("GET", f"{API}/agents/{seg(name)}"))

    async def list_skills(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[AgentSkill]:
        return as_page(AgentSkill, await self._b.request("GET", f"{API}/skills", params=paging(limit, cursor)))

    async def get_skill(self, skill_id: str) -> AgentSkill:
        return as_model(AgentSkill, await self._b.request("GET", f"{API}/skills/{seg(skill_id)}"))

    async def skill_discovery(self) -> SkillDiscovery:
        return as_model(SkillDiscovery, await self._b.request("GET", f"{API}/skills/discovery"))

    async def agent_card(self) -> AgentCard:
        return as_model(AgentCard, await self._b.request("GET", f"{API}/agents/agent-card"))

    async def public_agent_card(self) -> AgentCard:
        return as_model(AgentCard, await self._b.request("GET", "/.well-known/agent-card.json", credential="public"))
