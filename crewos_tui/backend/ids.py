"""Ids that sort by creation time, and the clock — both replaceable for tests.

Ids are ULIDs (48-bit millisecond time + 80 random bits, Crockford base32, 26
characters), monotonic within one process, so "newest first" and keyset pagination
need no extra column. A seeded generator and a fixed clock make demo data and
snapshots deterministic.
"""

from __future__ import annotations

import os
import random
import threading
from datetime import UTC, datetime, timedelta

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


class Clock:
    """The current UTC time. ``FixedClock`` replaces it in tests and demos."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that starts at ``start`` and advances ``step`` per reading."""

    def __init__(self, start: datetime, step: timedelta = timedelta(seconds=1)) -> None:
        self._t = start
        self._step = step
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            t = self._t
            self._t = t + self._step
            return t


class IdGenerator:
    """ULID generator; monotonic even when the clock stands still."""

    def __init__(self, clock: Clock | None = None, seed: int | None = None) -> None:
        self._clock = clock or Clock()
        self._rand = random.Random(seed) if seed is not None else None
        self._last_ms = -1
        self._last_rand = 0
        self._lock = threading.Lock()

    def _random80(self) -> int:
        if self._rand is not None:
            return self._rand.getrandbits(80)
        return int.from_bytes(os.urandom(10), "big")

    def new(self) -> str:
        ms = int(self._clock.now().timestamp() * 1000)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                rnd = self._last_rand + 1
            else:
                rnd = self._random80()
            self._last_ms, self._last_rand = ms, rnd
        return _encode(ms, 10) + _encode(rnd & ((1 << 80) - 1), 16)
