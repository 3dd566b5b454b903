"""Chat, sessions and agent discovery: three services over the chat tables and the agents."""

from __future__ import annotations

from ...context import ServiceContext
from .bundles import SessionBundles
from .discovery import AgentDiscoveryService
from .feedback import SessionFeedback
from .runs import ChatService
from .sessions import SessionCore
from .shares import SessionShares

__all__ = ["AgentDiscoveryService", "ChatService", "SessionService"]


class SessionService(SessionCore, SessionBundles, SessionShares, SessionFeedback):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
