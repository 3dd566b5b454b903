"""The sign-in back-off, one formula for the account throttle (service layer) and the
client throttle (server): after ``free`` failures the wait starts at ``first`` and doubles
with each further failure, up to ``maximum``."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

Span = TypeVar("Span", float, timedelta)


def doubling_delay(failures: int, *, free: int, first: Span, maximum: Span) -> Span | None:
    """The wait after ``failures`` consecutive failures; None while they are still free."""
    extra = failures - free
    if extra < 0:
        return None
    return min(first * 2 ** min(extra, 40), maximum)
