"""Sign-in limits per client address, in memory: a sliding window of attempts (a cap on
volume) and growing delays after failed sign-ins; and the client address itself:
``X-Forwarded-For`` counts only from a proxy the operator trusts."""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..backoff import doubling_delay

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


@dataclass
class _Failures:
    count: int
    last: float
    not_before: float


class FailureThrottle:
    """Growing delays per client after failed sign-ins, whichever accounts they tried.

    After ``free`` failures the client waits ``first`` seconds, and each further failure
    doubles the wait, up to ``maximum``. Attempts during a wait are refused
    before any password is checked and are not counted. A client's failures are
    forgotten ``forget_after`` seconds after its last one; a success does not reset
    them, so an attacker's own account cannot launder guesses at another's."""

    def __init__(self, free: int = 5, first: float = 1.0, maximum: float = 900.0, forget_after: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free = free
        self.first = first
        self.maximum = maximum
        self.forget_after = forget_after
        self._clock = clock
        self._clients: dict[str, _Failures] = {}

    def wait(self, key: str) -> float | None:
        """Seconds the client must still wait before its next attempt; None if it may try now."""
        now = self._clock()
        state = self._clients.get(key)
        if state is None:
            return None
        if now - state.last >= self.forget_after:
            del self._clients[key]
            return None
        return state.not_before - now if now < state.not_before else None

    def failed(self, key: str) -> float | None:
        """Record a failed sign-in; the delay it starts (None while failures are still free)."""
        now = self._clock()
        state = self._clients.get(key)
        if state is None or now - state.last >= self.forget_after:
            state = self._clients[key] = _Failures(0, now, now)
        state.count += 1
        state.last = now
        delay = doubling_delay(state.count, free=self.free, first=self.first, maximum=self.maximum)
        state.not_before = now + (delay or 0.0)
        if len(self._clients) > _PRUNE_AT:
            for k in [k for k, f in self._clients.items() if now - f.last >= self.forget_after]:
                del self._clients[k]
        return delay


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(entries: Iterable[str]) -> list[Network]:
    """``10.0.0.5``, ``10.0.0.0/8`` or ``::1``, each entry possibly a comma list; ValueError names a bad one."""
    networks: list[Network] = []
    for entry in entries:
        for part in entry.split(","):
            if not (part := part.strip()):
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {part!r}") from None
    return networks


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed; none unless the operator names them."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks = parse_trusted_proxies(entries)

    def trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: Iterable[str]) -> str:
        """The client address: the direct peer, unless that is a trusted proxy; then the
        right-most ``X-Forwarded-For`` entry that is not a trusted proxy. Entries left of
        it were written by the client and prove nothing."""
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer
