"""Small rules every service shares: who may call, and loading rows or 404."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ...errors import Forbidden, NotFound, Unauthorized
from ...principal import Principal

R = TypeVar("R")


def require_user(principal: Principal) -> None:
    """Any signed-in caller (or the command line)."""
    if principal.is_anonymous:
        raise Unauthorized("sign in first: this call needs credentials")


def require_admin(principal: Principal) -> None:
    require_user(principal)
    if not principal.is_admin:
        raise Forbidden("this needs the admin role")


async def get_or_404(session: AsyncSession, model: type[R], key: Any, what: str) -> R:
    row = await session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} not found")
    return row
