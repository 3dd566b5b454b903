"""The review queue: one service object, split by concern (queue, decisions, stats)."""

from __future__ import annotations

from ...context import ServiceContext
from .decide import ReviewDecisions
from .queue import ReviewQueue
from .stats import ReviewStatsMixin


class ReviewService(ReviewQueue, ReviewDecisions, ReviewStatsMixin):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
