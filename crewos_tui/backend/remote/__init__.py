"""RemoteBackend: the Backend interface over HTTP against a CrewOS server.

``HttpClient`` (``http.py``) owns the transport; each domain's client lives in its
own module and is attached here. A new slice adds its module and one line below.
"""

from __future__ import annotations

from typing import Any

from .admin import RemoteAdmin
from .agent_jobs import RemoteAgentJobs
from .agents import RemoteAgents
from .artifacts import RemoteArtifacts
from .auth import RemoteAuth
from .chat import RemoteChat
from .health import RemoteHealth
from .http import HttpClient
from .knowledge import RemoteKnowledge
from .notifications import RemoteNotifications
from .projects import RemoteProjects
from .review import RemoteCapabilityGaps, RemoteReview, RemoteTesting, RemoteValidation
from .sessions import RemoteSessions
from .tasks import RemoteTasks
from .tokens import RemoteTokenization

__all__ = ["RemoteBackend", "HttpClient"]


class RemoteBackend(HttpClient):
    def __init__(self, base_url: str, api_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, api_key, **kwargs)
        self.auth = RemoteAuth(self)
        self.health = RemoteHealth(self)
        self.projects = RemoteProjects(self)
        self.tasks = RemoteTasks(self)
        self.agent_jobs = RemoteAgentJobs(self)
        self.tokenization = RemoteTokenization(self)
        self.notifications = RemoteNotifications(self)
        self.agents = RemoteAgents(self)
        self.chat = RemoteChat(self)
        self.sessions = RemoteSessions(self)
        self.review = RemoteReview(self)
        self.validation = RemoteValidation(self)
        self.testing = RemoteTesting(self)
        self.capability_gaps = RemoteCapabilityGaps(self)
        self.admin = RemoteAdmin(self)
        self.knowledge = RemoteKnowledge(self)
        self.artifacts = RemoteArtifacts(self)
