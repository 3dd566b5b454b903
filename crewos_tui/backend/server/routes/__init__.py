"""Route modules, one per domain. A new slice adds its module to ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from . import admin, agent_jobs, agents, auth, chat, health, notifications, projects, sessions, tasks, tokens
from . import capability_gaps, review, testing, validation
from . import artifacts, knowledge

ROUTERS: list[APIRouter] = [health.router, auth.router, projects.router, notifications.router, tokens.router]
ROUTERS += [tasks.router, agent_jobs.router]
ROUTERS += [agents.router, chat.router, sessions.router]
ROUTERS += [admin.router]
ROUTERS += [review.router, validation.router, testing.router, capability_gaps.router]
ROUTERS += [knowledge.router, artifacts.router]
