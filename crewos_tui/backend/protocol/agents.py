"""What the Backend offers for agent discovery."""

from __future__ import annotations

from typing import Protocol

from ..schemas import AgentCard, AgentInfo, AgentSkill, Page, SkillDiscovery
from ..schemas.common import DEFAULT_LIMIT


class AgentsAPI(Protocol):
    async def list(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[AgentInfo]:
        """The callable agents with their skills."""
        ...

    async def get(self, name: str) -> AgentInfo:
        """One agent by registry name."""
        ...

    async def list_skills(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[AgentSkill]:
        """Every skill of every agent."""
        ...

    async def get_skill(self, skill_id: str) -> AgentSkill:
        """One skill."""
        ...

    async def skill_discovery(self) -> SkillDiscovery:
        """Skills plus the routing rule."""
        ...

    async def agent_card(self) -> AgentCard:
        """The authenticated agent card."""
        ...

    async def public_agent_card(self) -> AgentCard:
        """The well-known agent card (no credentials needed)."""
        ...
