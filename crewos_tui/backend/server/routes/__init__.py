"""Route modules, one per domain. A new slice adds its module to ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from . import auth, health, projects

ROUTERS: list[APIRouter] = [health.router, auth.router, projects.router]
