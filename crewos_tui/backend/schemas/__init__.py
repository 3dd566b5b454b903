"""Wire models: what crosses the Backend interface and the HTTP API."""

from .auth import *  # noqa: F403
from .common import *  # noqa: F403
from .health import *  # noqa: F403
from .projects import *  # noqa: F403
from .tasks import *  # noqa: F403
from .agent_jobs import *  # noqa: F403
from .notifications import *  # noqa: F403
from .tokens import *  # noqa: F403
from .agents import *  # noqa: F403
from .chat import *  # noqa: F403
from .sessions import *  # noqa: F403
from .admin import *  # noqa: F403
from .audit import *  # noqa: F403
from .review import *  # noqa: F403
from .validation import *  # noqa: F403
from .testing import *  # noqa: F403
from .capability_gaps import *  # noqa: F403
from .knowledge import *  # noqa: F403
from .artifacts import *  # noqa: F403
