"""Keyset pagination: opaque cursors over an indexed, unique sort key.

A cursor is the url-safe base64 of the last row's key; the next page is the rows
strictly after it in the list's order. Row-value comparisons (``tuple_``) keep
compound keys fast in SQLite.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Invalid
from ..schemas.common import DEFAULT_LIMIT, MAX_LIMIT, Page

T = TypeVar("T")


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Invalid("cursor is not one this server issued") from None
    if not isinstance(key, list) or len(key) != width or not all(isinstance(k, str | int) for k in key):
        raise Invalid("cursor is not one this server issued")
    return key


def check_limit(limit: int) -> int:
    if not isinstance(limit, int) or limit < 1 or limit > MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


async def paginate(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]],
    keys: Sequence[Any],
    key_of: Callable[[Any], Sequence[Any]],
    convert: Callable[[Any], T],
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    descending: bool = False,
) -> Page[T]:
    """Run ``stmt`` ordered by ``keys`` after ``cursor``; ``key_of(row)`` gives a row's key."""
    check_limit(limit)
    if cursor:
        after = decode_cursor(cursor, len(keys))
        lhs = keys[0] if len(keys) == 1 else tuple_(*keys)
        rhs = after[0] if len(keys) == 1 else tuple_(*after)
        stmt = stmt.where(lhs < rhs if descending else lhs > rhs)
    order = [k.desc() if descending else k.asc() for k in keys]
    rows = (await session.execute(stmt.order_by(*order).limit(limit + 1))).all()
    rows = [r[0] if len(r) == 1 else r for r in rows]
    next_cursor = encode_cursor(key_of(rows[limit - 1])) if len(rows) > limit else None
    return Page[Any](items=[convert(r) for r in rows[:limit]], next_cursor=next_cursor)
