"""RemoteBackend: the Backend interface over HTTP against a CrewOS server.

``HttpClient`` (``http.py``) owns the transport; each domain's client lives in its
own module and is attached here. A new slice adds its module and one line below.
"""

from __future__ import annotations

from typing import Any

from .auth import RemoteAuth
from .health import RemoteHealth
from .http import HttpClient
from .projects import RemoteProjects

__all__ = ["RemoteBackend", "HttpClient"]


class RemoteBackend(HttpClient):
    def __init__(self, base_url: str, api_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, api_key, **kwargs)
        self.auth = RemoteAuth(self)
        self.health = RemoteHealth(self)
        self.projects = RemoteProjects(self)
