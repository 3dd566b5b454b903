"""An in-memory sliding-window limiter (login attempts per client address)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

#: Above this many tracked clients, forget the ones whose window has emptied.
_PRUNE_AT = 10_000


class SlidingWindowLimiter:
    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float | None:
        """Record one attempt; ``None`` if allowed, else the seconds until the next one is."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.001)
        hits.append(now)
        if len(self._hits) > _PRUNE_AT:
            self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        stale = [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]
        for k in stale:
            del self._hits[k]
