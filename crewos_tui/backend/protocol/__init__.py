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

    mode: str  # "local" | "remote"
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

    async def close(self) -> None:
        """Release connections."""
