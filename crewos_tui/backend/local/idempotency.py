"""Idempotent creates in the service layer: ``@idempotent(Model)`` on a create method.

When the caller set an idempotency key (``backend/idempotency.py``: the local
backend's caller with ``idempotency_key(...)``, the server from the
``Idempotency-Key`` header), the decorated method runs inside one *enclosing*
transaction (``Database.transaction(enclosing=True)``) that

1. takes SQLite's write lock first (``BEGIN IMMEDIATE``), so two calls with one key,
   in this process or another, run one after the other;
2. looks the key up for the caller: a row with the same operation and request hash
   answers its stored answer (nothing else happens); a different request, or another
   operation, is a 409; a row older than ``KEPT`` is forgotten;
3. otherwise runs the method (its own transactions and reads join this one) and
   stores the key, the request's hash and the answer; commits both or neither.

Without a key the method runs as it always does. A create that calls another create
uses the key once (the inner call sees none).

``shown_once``: the name of a field of the answer that must never be stored (the raw
API key). The answer is stored without it and a replay is refused with a 409 whose
text ``describe`` makes from the stored fields (what was made, what to do).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Concatenate, ParamSpec, TypeVar

from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python
from sqlalchemy import delete
from sqlmodel import col

from ..errors import Conflict
from ..idempotency import KEPT, check_key, current_key, without_key
from ..principal import Principal
from .tables import IdempotencyKeyRow

P = ParamSpec("P")
R = TypeVar("R")
Method = Callable[Concatenate[Any, Principal, P], Awaitable[R]]


def owner_of(principal: Principal) -> str:
    """Whose keys these are: the user, whatever credential they used."""
    return principal.user_id or f"system:{principal.username}"


def _plain(value: Any) -> Any:
    """A call argument as JSON-able data that is equal for equal requests."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, bytes | bytearray):
        return {"sha256": hashlib.sha256(value).hexdigest(), "size": len(value)}
    if isinstance(value, Enum):
        return value.value
    return to_jsonable_python(value, fallback=str)


def request_hash(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """sha256 of the call's arguments after the service and the principal, by name."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    named = {name: _plain(value) for name, value in list(bound.arguments.items())[2:]}
    canonical = json.dumps(named, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(model: type[R], *, shown_once: str | None = None,
               describe: Callable[[dict[str, Any]], str] | None = None) -> Callable[[Method[P, R]], Method[P, R]]:
    """Make a create method honour an idempotency key (see the module's docstring)."""
    adapter: TypeAdapter[R] = TypeAdapter(model)

    def decorate(method: Method[P, R]) -> Method[P, R]:
        signature = inspect.signature(method)
        operation = method.__qualname__

        @functools.wraps(method)
        async def call(self: Any, principal: Principal, *args: P.args, **kwargs: P.kwargs) -> R:
            slot = current_key()
            if slot is None:
                return await method(self, principal, *args, **kwargs)
            slot.replayed = False
            key = check_key(slot.key)
            digest = request_hash(signature, (self, principal, *args), kwargs)
            ctx = self.ctx
            owner = owner_of(principal)
            now = ctx.clock.now()
            async with ctx.db.transaction(enclosing=True) as s:
                row = await s.get(IdempotencyKeyRow, (owner, key))
                if row is not None and row.created_at <= now - KEPT:
                    await s.delete(row)
                    await s.flush()
                    row = None
                if row is not None:
                    if row.operation != operation or row.request_hash != digest:
                        raise Conflict(f"idempotency key {key!r} was already used for a different request in the "
                                       f"last {KEPT.total_seconds() / 3600:g} hours; use a new key for a new request")
                    if row.withheld:
                        stored = json.loads(row.response)
                        raise Conflict(describe(stored) if describe is not None else
                                       "this idempotency key's first answer held a secret shown once; "
                                       "it cannot be shown again")
                    slot.mark_replayed()
                    return adapter.validate_json(row.response)
                with without_key():
                    result = await method(self, principal, *args, **kwargs)
                stored = adapter.dump_python(result, mode="json")
                if shown_once is not None and isinstance(stored, dict):
                    stored.pop(shown_once, None)
                await s.execute(delete(IdempotencyKeyRow).where(col(IdempotencyKeyRow.created_at) <= now - KEPT))
                s.add(IdempotencyKeyRow(owner=owner, key=key, operation=operation, request_hash=digest,
                                        response=json.dumps(stored, separators=(",", ":")),
                                        withheld=shown_once is not None, created_at=now))
            return result

        return call  # type: ignore[return-value]

    return decorate

