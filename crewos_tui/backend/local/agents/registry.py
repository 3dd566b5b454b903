"""The built-in agents and their skills: names, descriptions, and how a message is routed.

Routing rule (documented for users): an explicit ``agent`` wins. Otherwise the
message's words decide, first match wins:

1. *planner* when it asks for a plan or tasks ("plan", "break down", "tasks",
   "steps", "roadmap", "milestone", "split");
2. *reporter* when it asks for an update or report ("update", "report", "status",
   "summary", "summarise"/"summarize", "progress", "recap");
3. *helper* for everything else.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import NotFound

if TYPE_CHECKING:
    from .facts import AgentInput


@dataclass(frozen=True)
class SkillSpec:
    id: str
    name: str
    description: str
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    input_modes: tuple[str, ...] = ("text/plain",)
    output_modes: tuple[str, ...] = ("text/markdown",)


@dataclass
class BuiltinResult:
    """What a built-in agent produced: markdown, where it came from, structured extras."""

    text: str
    sources: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


Producer = Callable[["AgentInput"], Awaitable[BuiltinResult]]


@dataclass(frozen=True)
class AgentSpec:
    name: str
    title: str
    description: str
    skills: tuple[SkillSpec, ...]
    produce: Producer
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    needs_project: bool = False
    input_modes: tuple[str, ...] = ("text/plain",)
    output_modes: tuple[str, ...] = ("text/markdown",)


_REGISTRY: dict[str, AgentSpec] = {}


def register(spec: AgentSpec) -> AgentSpec:
    _REGISTRY[spec.name] = spec
    return spec


def all_agents() -> list[AgentSpec]:
    _load()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def get_agent(name: str) -> AgentSpec:
    _load()
    spec = _REGISTRY.get((name or "").strip().lower())
    if spec is None:
        raise NotFound(f"agent {name!r} not found (known: {', '.join(sorted(_REGISTRY))})")
    return spec


def all_skills() -> list[tuple[AgentSpec, SkillSpec]]:
    return [(a, s) for a in all_agents() for s in a.skills]


def get_skill(skill_id: str) -> tuple[AgentSpec, SkillSpec]:
    for agent, skill in all_skills():
        if skill.id == skill_id:
            return agent, skill
    raise NotFound(f"skill {skill_id!r} not found")


_PLANNER = re.compile(r"\b(plan|planning|break\s+down|tasks?|steps|roadmap|milestones?|split)\b", re.IGNORECASE)
_REPORTER = re.compile(r"\b(update|report|status|summary|summari[sz]e|progress|recap)\b", re.IGNORECASE)


def route(message: str, explicit: str | None = None) -> str:
    """The agent that answers ``message``: ``explicit`` when given, else the rule above."""
    if explicit and explicit.strip():
        return get_agent(explicit).name
    if _PLANNER.search(message):
        return "planner"
    if _REPORTER.search(message):
        return "reporter"
    return "helper"


def _load() -> None:
    # The built-ins register themselves on import (idempotent); imported lazily to avoid cycles.
    from . import helper, planner, reporter  # noqa: F401

    if "worker" not in _REGISTRY:  # the task worker lives with the tasks slice
        from ..services.tasks.worker import worker_spec

        register(worker_spec())
