"""Agent discovery: /.well-known/agent-card.json (public), /api/v1/agents..., /api/v1/skills..."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...schemas import AgentCard, AgentInfo, AgentSkill, Page, SkillDiscovery
from ..auth import Anonymous, Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, tags=["agents"])
api = APIRouter(route_class=CrewOSRoute, prefix="/api/v1", tags=["agents"], responses=AUTHED_ERRORS)


@router.get("/.well-known/agent-card.json", response_model=AgentCard, summary="Fetch the well-known CrewOS agent card")
async def well_known_agent_card(request: Request, services: ServicesDep, principal: Anonymous) -> AgentCard:
    return await services.agents.public_agent_card(principal, str(request.base_url))


@api.get("/agents", response_model=Page[AgentInfo], summary="List callable CrewOS agents and their metadata")
async def list_agents(
    services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None
) -> Page[AgentInfo]:
    return await services.agents.list(principal, limit=limit, cursor=cursor)


@api.get("/agents/agent-card", response_model=AgentCard, summary="Fetch the authenticated agent-card representation")
async def agent_card(request: Request, services: ServicesDep, principal: Caller) -> AgentCard:
    return await services.agents.agent_card(principal, str(request.base_url))


@api.get("/agents/{name}", response_model=AgentInfo, summary="Inspect one agent")
async def get_agent(name: str, services: ServicesDep, principal: Caller) -> AgentInfo:
    return await services.agents.get(principal, name)


@api.get("/skills", response_model=Page[AgentSkill], summary="List configured skills available to the caller")
async def list_skills(
    services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None
) -> Page[AgentSkill]:
    return await services.agents.list_skills(principal, limit=limit, cursor=cursor)


@api.get("/skills/discovery", response_model=SkillDiscovery,
         summary="Skill-discovery metadata for routing and planning")
async def skill_discovery(services: ServicesDep, principal: Caller) -> SkillDiscovery:
    return await services.agents.skill_discovery(principal)


@api.get("/skills/{skill_id}", response_model=AgentSkill, summary="Inspect one skill")
async def get_skill(skill_id: str, services: ServicesDep, principal: Caller) -> AgentSkill:
    return await services.agents.get_skill(principal, skill_id)


router.include_router(api)
