"""Agent discovery: the agents and skills the caller can use, and the agent card."""

from __future__ import annotations

from ....principal import Principal
from ....schemas import (
    AgentCard,
    AgentCardSkill,
    AgentInfo,
    AgentSkill,
    Page,
    SkillDiscovery,
    SkillRoute,
)
from ....schemas.common import DEFAULT_LIMIT
from ...agents import registry
from ...agents.registry import AgentSpec, SkillSpec
from ...context import ServiceContext
from ...pagination import check_limit, decode_cursor, encode_cursor
from .._common import require_user

CARD_NAME = "CrewOS"
PROTOCOL_VERSION = "0.3.0"
ROUTING_RULE = (
    "An explicit agent wins. Otherwise, first match: planner when the message asks for a plan or tasks "
    "(plan, break down, tasks, steps, roadmap, milestone, split); reporter when it asks for an update or report "
    "(update, report, status, summary, summarise, progress, recap); helper for everything else."
)
ROUTES = [
    SkillRoute(agent="planner", order=1,
               keywords=["plan", "break down", "tasks", "steps", "roadmap", "milestone", "split"]),
    SkillRoute(agent="reporter", order=2,
               keywords=["update", "report", "status", "summary", "summarise", "progress", "recap"]),
    SkillRoute(agent="helper", order=3, keywords=[]),
]


def skill_model(agent: AgentSpec, skill: SkillSpec) -> AgentSkill:
    return AgentSkill(id=skill.id, name=skill.name, description=skill.description, agent=agent.name,
                      tags=list(skill.tags), examples=list(skill.examples), input_modes=list(skill.input_modes),
                      output_modes=list(skill.output_modes))


def agent_model(spec: AgentSpec) -> AgentInfo:
    return AgentInfo(name=spec.name, title=spec.title, description=spec.description, tags=list(spec.tags),
                     examples=list(spec.examples), input_modes=list(spec.input_modes),
                     output_modes=list(spec.output_modes), needs_project=spec.needs_project,
                     skills=[skill_model(spec, s) for s in spec.skills])


def _page(items: list, key, limit: int, cursor: str | None) -> Page:
    """Keyset paging over a small, sorted in-memory list."""
    check_limit(limit)
    if cursor:
        after = decode_cursor(cursor, 1)[0]
        items = [i for i in items if key(i) > after]
    page = items[:limit]
    return Page(items=page, next_cursor=encode_cursor([key(page[-1])]) if len(items) > limit else None)


def agent_card(base_url: str = "", version: str = "") -> AgentCard:
    from ..... import __version__

    skills = [AgentCardSkill(id=s.id, name=s.name, description=s.description, tags=list(s.tags),
                             examples=list(s.examples)) for _, s in registry.all_skills()]
    url = (base_url.rstrip("/") + "/api/v1") if base_url else "/api/v1"
    return AgentCard(
        name=CARD_NAME,
        description="CrewOS workspace agents: project updates, task planning and workbench help, "
                    "answered from the workspace's own data.",
        url=url, version=version or __version__, protocolVersion=PROTOCOL_VERSION,
        capabilities={"streaming": True, "pushNotifications": False, "stateTransitionHistory": True},
        defaultInputModes=["text/plain"], defaultOutputModes=["text/markdown", "application/json"],
        skills=skills,
        securitySchemes={"apiKey": {"type": "apiKey", "in": "header", "name": "X-CrewOS-API-Key"},
                        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        security=[{"apiKey": []}],
        supportedInterfaces=[{"url": url + "/chat/stream", "protocolBinding": "HTTP+SSE",
                              "protocolVersion": PROTOCOL_VERSION}],
    )


class AgentDiscoveryService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def list(self, principal: Principal, limit: int = DEFAULT_LIMIT,
                   cursor: str | None = None) -> Page[AgentInfo]:
        """The callable agents, by name."""
        require_user(principal)
        return _page([agent_model(a) for a in registry.all_agents()], lambda a: a.name, limit, cursor)

    async def get(self, principal: Principal, name: str) -> AgentInfo:
        """One agent by registry name (404 when unknown)."""
        require_user(principal)
        return agent_model(registry.get_agent(name))

    async def list_skills(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[AgentSkill]:
        """Every skill of every agent, by id."""
        require_user(principal)
        skills = sorted((skill_model(a, s) for a, s in registry.all_skills()), key=lambda s: s.id)
        return _page(skills, lambda s: s.id, limit, cursor)

    async def get_skill(self, principal: Principal, skill_id: str) -> AgentSkill:
        require_user(principal)
        return skill_model(*registry.get_skill(skill_id))

    async def skill_discovery(self, principal: Principal) -> SkillDiscovery:
        """Skills plus the routing rule, for a client that routes or plans itself."""
        require_user(principal)
        return SkillDiscovery(default_agent="helper", rule=ROUTING_RULE, routes=ROUTES,
                              skills=[skill_model(a, s) for a, s in registry.all_skills()])

    async def agent_card(self, principal: Principal, base_url: str = "") -> AgentCard:
        """The agent card (public at /.well-known/agent-card.json; here for signed-in callers)."""
        require_user(principal)
        return agent_card(base_url)

    async def public_agent_card(self, principal: Principal, base_url: str = "") -> AgentCard:
        """The well-known card: anyone may read it."""
        return agent_card(base_url)
