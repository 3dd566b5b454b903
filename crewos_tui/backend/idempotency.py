"""Idempotency keys: a create sent twice with one key is made once.

A create (every ``POST`` that answers 201 Created) may carry a key. The first call
with a key does the work and the service layer remembers the key, the request and
the answer *in the same transaction* as the create; a later call with the same key
and the same request answers the remembered answer and changes nothing. The same
key with a different request (or for another operation) is refused with 409. Keys
belong to the user who sent them and are kept for ``KEPT`` (24 h).

Both backends take the key the same way, from the context::

    with idempotency_key("b7e1...") as key:
        task = await backend.tasks.create(data)
    key.replayed  # True when this answer is the remembered one

Over HTTP the key is the ``Idempotency-Key`` header. The remote client sends a
fresh key with every create on its own (or the one given as above) and, when the
answer is lost, sends the same request with the same key again. The server sets the
key for the service call (``server/idempotency.py``) the way it sets the request id
(``request_id.py``).

A create whose answer holds a secret shown once (a new API key) keeps the answer
without the secret; its replay is refused with 409 naming what was made, since the
secret cannot be shown again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from .errors import Invalid

#: The request header that carries the key.
HEADER = "Idempotency-Key"
#: Set to ``true`` on an answer that is a replay of the first one.
REPLAYED_HEADER = "Idempotent-Replayed"
#: On every answer of a server that honours keys: how long (seconds) it keeps them.
#: The remote client retries a create whose answer was lost only on such a server.
SUPPORT_HEADER = "X-CrewOS-Idempotency"
MAX_KEY_LENGTH = 255
#: How long a key is remembered; afterwards it may be used again.
KEPT = timedelta(hours=24)


@dataclass
class IdempotencyKey:
    """The key of the create calls made in its context, and what became of the last one."""

    key: str
    #: The last create made with this key answered the remembered answer.
    replayed: bool = False
    #: Called when a create answers a replay (the server sets the answer's header).
    on_replay: Callable[[], None] | None = field(default=None, repr=False)

    def mark_replayed(self) -> None:
        self.replayed = True
        if self.on_replay is not None:
            self.on_replay()


_current: ContextVar[IdempotencyKey | None] = ContextVar("crewos_idempotency_key", default=None)


def new_key() -> str:
    """A fresh random key (the remote client makes one per create)."""
    return str(uuid.uuid4())


def check_key(key: str) -> str:
    """``key`` if it is 1-255 printable ASCII characters, not starting or ending with a
    space; else a 422 saying what is wrong."""
    if not key.strip():
        raise Invalid(f"the {HEADER} is empty; send 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    if len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"the {HEADER} is {len(key)} characters long; at most {MAX_KEY_LENGTH} are allowed")
    if not all(" " <= ch <= "~" for ch in key):
        raise Invalid(f"the {HEADER} may hold only printable ASCII characters (no controls, no accents)")
    if key != key.strip():
        raise Invalid(f"the {HEADER} must not start or end with a space")
    return key


@contextmanager
def idempotency_key(key: str | None = None, *,
                    on_replay: Callable[[], None] | None = None) -> Iterator[IdempotencyKey]:
    """Make the creates called inside this block use ``key`` (a fresh one when None)."""
    slot = IdempotencyKey(new_key() if key is None else key, on_replay=on_replay)
    token = _current.set(slot)
    try:
        yield slot
    finally:
        _current.reset(token)


def current_key() -> IdempotencyKey | None:
    """The key set for this context, if any."""
    return _current.get()


@contextmanager
def without_key() -> Iterator[None]:
    """Hide the key from the calls inside (a create that calls another create uses it once)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)
