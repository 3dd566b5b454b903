"""The agents of the local service layer: built-in offline agents and the one runtime.

Every agent execution in the system (chat, task-run jobs, testing scenarios) goes
through ``runtime.run_agent`` — guards, answer cache, model routing and the
``agent.run_completed`` event live there and nowhere else.
"""

from .registry import (
    AgentSpec,
    SkillSpec,
    all_agents,
    all_skills,
    get_agent,
    get_skill,
    route,
)
from .runtime import (
    AgentAnswer,
    LLMEndpoint,
    PreparedRun,
    count_tokens,
    prepare_run,
    run_agent,
)

__all__ = [
    "AgentAnswer",
    "AgentSpec",
    "LLMEndpoint",
    "PreparedRun",
    "SkillSpec",
    "all_agents",
    "all_skills",
    "count_tokens",
    "get_agent",
    "get_skill",
    "prepare_run",
    "route",
    "run_agent",
]
