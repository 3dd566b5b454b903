"""An in-memory sliding-window limiter (login attempts per client address), and the
client address itself: ``X-Forwarded-For`` counts only from a proxy the operator trusts."""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Callable, Iterable

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
