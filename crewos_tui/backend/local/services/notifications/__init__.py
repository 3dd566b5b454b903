"""Notifications: produced from domain events, read by their user.

``NotificationService`` registers the producer (``producer.py``) on the event bus
when the service layer starts, so every slice gets notifications by emitting
events; ``rules.py`` is the table of which event tells whom.
"""

from __future__ import annotations

from ...context import ServiceContext
from .inbox import NotificationInbox
from .preferences import NotificationSettings
from .producer import NotificationProducer
from .rules import KINDS, RULES

__all__ = ["KINDS", "RULES", "NotificationService"]


class NotificationService(NotificationInbox, NotificationSettings):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        ctx.events.add_handler(NotificationProducer(ctx))
