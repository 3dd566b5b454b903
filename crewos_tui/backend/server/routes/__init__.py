"""Route modules, one per domain. A new slice adds its module to ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    admin,
    agent_jobs,
    agents,
    artifacts,
    auth,
    capability_gaps,
    chat,
    health,
    knowledge,
    notifications,
    projects,
    review,
    sessions,
    tasks,
    testing,
    tokens,
    validation,
)

ROUTERS: list[APIRouter] = [
    health.router, auth.router, projects.router, notifications.router, tokens.router,
    tasks.router, agent_jobs.router,
    agents.router, chat.router, sessions.router,
    admin.router,
    review.router, validation.router, testing.router, capability_gaps.router,
    knowledge.router, artifacts.router,
]
