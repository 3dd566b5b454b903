"""LocalBackend: the Backend interface over the in-process service layer.

It binds one ``Principal`` (the local profile's user) to every service method,
so ``backend.projects.create(data)`` is ``services.projects.create(principal, data)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..principal import Principal
from .services import Services

if TYPE_CHECKING:
    from ..protocol import (
        AdminAPI,
        AgentJobsAPI,
        AgentsAPI,
        ArtifactsAPI,
        AuthAPI,
        CapabilityGapsAPI,
        ChatAPI,
        HealthAPI,
        KnowledgeAPI,
        NotificationsAPI,
        ProjectsAPI,
        ReviewAPI,
        ScenarioTestingAPI,
        SessionsAPI,
        TasksAPI,
        TokenizationAPI,
        ValidationAPI,
    )


class _Bound:
    """A domain service with the principal filled in as the first argument."""

    def __init__(self, service: Any, principal: Principal) -> None:
        self._service = service
        self._principal = principal

    def __getattr__(self, name: str) -> Callable[..., Any]:
        attr = getattr(self._service, name)
        if name.startswith("_") or not callable(attr):
            raise AttributeError(name)
        bound = functools.partial(attr, self._principal)
        setattr(self, name, bound)  # cache: later lookups skip __getattr__
        return bound


class LocalBackend:
    mode = "local"

    # Set in ``__init__`` as ``_Bound`` wrappers of the domain services; declared
    # with the Backend protocol's types (the service signatures, principal bound,
    # are checked against these at run time by the parity test).
    auth: AuthAPI
    health: HealthAPI
    projects: ProjectsAPI
    tasks: TasksAPI
    agent_jobs: AgentJobsAPI
    tokenization: TokenizationAPI
    notifications: NotificationsAPI
    agents: AgentsAPI
    chat: ChatAPI
    sessions: SessionsAPI
    review: ReviewAPI
    validation: ValidationAPI
    testing: ScenarioTestingAPI
    capability_gaps: CapabilityGapsAPI
    admin: AdminAPI
    knowledge: KnowledgeAPI
    artifacts: ArtifactsAPI

    def __init__(self, services: Services, principal: Principal, *, owns_services: bool = True) -> None:
        self.services = services
        self.principal = principal
        self._owns = owns_services
        for name, service in services.domains.items():
            setattr(self, name, _Bound(service, principal))

    def as_user(self, principal: Principal) -> LocalBackend:
        """The same service layer acting as someone else (``--as``, tests)."""
        return LocalBackend(self.services, principal, owns_services=False)

    def subscribe(self, listener: Callable[[Any], None]) -> Callable[[], None]:
        """Live domain events after commit (local mode only)."""
        return self.services.ctx.events.subscribe(listener)

    async def close(self) -> None:
        if self._owns:
            await self.services.close()
