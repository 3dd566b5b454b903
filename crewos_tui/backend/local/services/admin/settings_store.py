"""Singleton settings documents (pipeline policy, LLM options, budget options) by key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ...tables import AdminSettingRow


async def load_setting(s: AsyncSession, key: str, defaults: dict[str, Any]) -> tuple[dict[str, Any],
                                                                                   AdminSettingRow | None]:
    """The stored document merged over ``defaults`` (new fields get their default)."""
    row = await s.get(AdminSettingRow, key)
    value = {**defaults, **{k: v for k, v in (row.value if row else {}).items() if k in defaults}}
    return value, row


async def save_setting(s: AsyncSession, key: str, value: dict[str, Any], now: datetime, by: str) -> AdminSettingRow:
    row = await s.get(AdminSettingRow, key)
    if row is None:
        row = AdminSettingRow(key=key, value=dict(value), updated_at=now, updated_by=by)
        s.add(row)
    else:
        row.value, row.updated_at, row.updated_by = dict(value), now, by  # a new dict: JSON change is seen
    return row
