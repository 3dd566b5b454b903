"""The Backend interface: what every screen may call.

Two implementations: ``LocalBackend`` (the embedded service layer on SQLite) and
``RemoteBackend`` (httpx against a CrewOS server). Both raise the errors of
``crewos_tui.backend.errors``. Every list method takes ``limit``/``cursor`` and
returns a ``Page``. The local service methods have these same signatures with a
``Principal`` as their first argument; the local backend binds it. One Protocol
per domain lives in its own module here; a new slice adds its module and one
attribute to ``Backend``.
"""

from __future__ import annotations

from typing import Protocol

from .admin import AdminAPI
from .agent_jobs import AgentJobsAPI
from .agents import AgentsAPI
from .artifacts import ArtifactsAPI
from .auth import AuthAPI
from .chat import ChatAPI
from .health import HealthAPI
from .knowledge import KnowledgeAPI
from .notifications import NotificationsAPI
from .projects import ProjectsAPI
from .review import CapabilityGapsAPI, ReviewAPI, ScenarioTestingAPI, ValidationAPI
from .sessions import SessionsAPI
from .tasks import TasksAPI
from .tokens import TokenizationAPI

__all__ = [
    "CapabilityGapsAPI", "ReviewAPI", "ScenarioTestingAPI", "ValidationAPI",
    "AgentsAPI", "ChatAPI", "SessionsAPI",
    "AdminAPI",
    "ArtifactsAPI", "KnowledgeAPI",
    "AgentJobsAPI", "AuthAPI", "Backend", "HealthAPI", "NotificationsAPI", "ProjectsAPI", "TasksAPI", "TokenizationAPI",
]


class Backend(Protocol):
    """What the app holds: one object per domain, plus a description of itself."""

    # Read-only: a backend whose ``auth`` is a ``RemoteAuth`` (or any other AuthAPI)
    # is assignable to Backend, and a missing or drifting method is a type error.
    @property
    def mode(self) -> str: ...  # "local" | "remote"
    @property
    def auth(self) -> AuthAPI: ...
    @property
    def health(self) -> HealthAPI: ...
    @property
    def projects(self) -> ProjectsAPI: ...
    @property
    def tasks(self) -> TasksAPI: ...
    @property
    def agent_jobs(self) -> AgentJobsAPI: ...
    @property
    def tokenization(self) -> TokenizationAPI: ...
    @property
    def notifications(self) -> NotificationsAPI: ...
    @property
    def agents(self) -> AgentsAPI: ...
    @property
    def chat(self) -> ChatAPI: ...
    @property
    def sessions(self) -> SessionsAPI: ...
    @property
    def review(self) -> ReviewAPI: ...
    @property
    def validation(self) -> ValidationAPI: ...
    @property
    def testing(self) -> ScenarioTestingAPI: ...
    @property
    def capability_gaps(self) -> CapabilityGapsAPI: ...
    @property
    def admin(self) -> AdminAPI: ...
    @property
    def knowledge(self) -> KnowledgeAPI: ...
    @property
    def artifacts(self) -> ArtifactsAPI: ...

    async def close(self) -> None:
        """Release connections."""
        ...
