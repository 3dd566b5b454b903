"""What the Backend offers for chat and agent runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from ..schemas import (
    ChatCancelResult,
    ChatReply,
    ChatRequest,
    ChatStreamEvent,
    OrchestratorStatus,
)


class ChatAPI(Protocol):
    async def send(
        self,
        message: str,
        project_id: str | None = None,
        session_id: str | None = None,
        agent: str | None = None,
        durable: bool = False,
    ) -> ChatReply:
        """Send a message; starts a session when none is given. Waits for the reply, or
        with ``durable`` answers at once with a ``job_id`` (the reply lands in the session)."""
        ...

    def stream(
        self,
        message: str,
        project_id: str | None = None,
        session_id: str | None = None,
        agent: str | None = None,
    ) -> AsyncIterator[ChatStreamEvent]:
        """``start``, ``token``…, then ``done`` or ``error``; errors before the start raise.
        Stopping early cancels the run (the partial reply is kept, marked cancelled)."""
        ...

    async def cancel(self, id: str) -> ChatCancelResult:
        """Stop the active run named by its run id, reply message id or session id."""
        ...

    async def external_chat(self, data: ChatRequest) -> ChatReply:
        """``send`` through the external-client JSON endpoint."""
        ...

    def external_stream(self, data: ChatRequest) -> AsyncIterator[ChatStreamEvent]:
        """``stream`` through the external-client JSON endpoint."""
        ...

    async def orchestrator_status(self) -> OrchestratorStatus:
        """Active runs, queue depth and the answering mode."""
        ...
