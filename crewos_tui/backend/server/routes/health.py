"""Liveness and readiness (public)."""

from __future__ import annotations

from fastapi import APIRouter

from ...schemas import Liveness, Readiness
from ..auth import Anonymous, ServicesDep
from ._common import CrewOSRoute, errors

router = APIRouter(route_class=CrewOSRoute, tags=["health"])


@router.get("/health/live", response_model=Liveness, summary="Liveness probe")
async def live(services: ServicesDep, principal: Anonymous) -> Liveness:
    return await services.health.live(principal)


@router.get("/health/ready", response_model=Readiness, responses=errors(503), summary="Deep readiness probe")
async def ready(services: ServicesDep, principal: Anonymous) -> Readiness:
    return await services.health.ready(principal)


@router.get("/health", response_model=Readiness, responses=errors(503), summary="Readiness alias")
async def health(services: ServicesDep, principal: Anonymous) -> Readiness:
    return await services.health.ready(principal)
