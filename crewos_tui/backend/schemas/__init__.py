"""Wire models: what crosses the Backend interface and the HTTP API."""

from .auth import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .health import *  # noqa: F401,F403
from .projects import *  # noqa: F401,F403
