"""Chat and agent runs: sending a message, streaming a reply, cancelling, orchestrator status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from .common import Request, Wire
from .text import ONE_LINE, MultiLine

__all__ = [
    "MAX_MESSAGE_CHARS",
    "ActiveRunInfo",
    "ChatCancel",
    "ChatCancelResult",
    "ChatReply",
    "ChatRequest",
    "ChatStreamEvent",
    "ChatUsage",
    "OrchestratorStatus",
]

#: The longest chat message accepted (characters); longer is 413.
MAX_MESSAGE_CHARS = 20_000

OptionalId = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=64)]


class ChatRequest(Request):
    """A chat message (the JSON body of /external/chat; /chat takes the same as form fields)."""

    message: MultiLine
    project_id: OptionalId = None
    session_id: OptionalId = None
    agent: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=64), ONE_LINE] = None
    #: Run as a durable job: the answer is the job id, the reply lands in the session.
    durable: bool = False


class ChatUsage(Wire):
    tokens_in: int = 0
    tokens_out: int = 0


class ChatReply(Wire):
    session_id: str
    message_id: str  # the assistant message
    user_message_id: str | None = None
    run_id: str | None = None
    job_id: str | None = None  # durable runs: poll the session or the orchestrator
    agent: str = ""
    content: str = ""
    status: str = "complete"  # complete | cancelled | queued | failed
    model: str = "builtin"
    cached: bool = False
    usage: ChatUsage = Field(default_factory=ChatUsage)
    sources: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


class ChatStreamEvent(Wire):
    """One server-sent event: ``start``, ``token`` (``data["delta"]``), ``progress``,
    ``done`` (the final ``ChatReply`` fields) or ``error`` (``code``, ``message``)."""

    event: str
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def delta(self) -> str:
        return str(self.data.get("delta", ""))


class ChatCancel(Request):
    """The run, assistant message or session whose active reply should stop."""

    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ChatCancelResult(Wire):
    id: str
    run_id: str
    session_id: str
    message_id: str
    cancelled: bool  # False: it had already finished
    status: str  # the run's status now


class ActiveRunInfo(Wire):
    run_id: str
    session_id: str
    message_id: str
    agent: str
    user: str
    project_id: str | None = None
    status: str  # queued | running
    durable: bool = False
    started_at: datetime | None = None
    created_at: datetime


class OrchestratorStatus(Wire):
    status: str = "ok"
    mode: str = "builtin"  # builtin | model
    model: str | None = None
    agents: list[str] = Field(default_factory=list)
    active_runs: list[ActiveRunInfo] = Field(default_factory=list[ActiveRunInfo])  # the caller's (all for admins)
    running: int = 0  # every user's, in this process
    queue_depth: int = 0  # durable runs waiting for a slot
    max_concurrent_runs: int = 0
    completed_runs: int = 0  # finished in this process since it started
    interrupted_runs: int = 0  # found unfinished from an earlier process
