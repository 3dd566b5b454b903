"""The agents and tools admin settings may name: the chat slice's agent registry."""

from __future__ import annotations

from ....errors import NotFound

#: The LLM route that applies to every agent without a route of its own.
ANY_AGENT = "*"


def agent_names() -> list[str]:
    from ...agents.registry import (
        all_agents,  # lazy: the registry loads the built-in agents
    )

    return [a.name for a in all_agents()]


def require_agent(name: str, *, allow_any: bool = False) -> str:
    """The agent's canonical name, or 404 naming the known ones."""
    value = (name or "").strip().lower()
    if allow_any and value == ANY_AGENT:
        return ANY_AGENT
    from ...agents.registry import get_agent

    try:
        return get_agent(value).name
    except NotFound:
        raise NotFound(f"agent {name!r} not found (known: {', '.join(agent_names())})") from None


def skill_ids() -> set[str]:
    from ...agents.registry import all_skills

    return {skill.id for _agent, skill in all_skills()}
