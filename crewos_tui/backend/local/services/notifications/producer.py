"""The notification producer: one in-transaction handler on the event bus.

It runs inside the transaction that emitted the event, so a notification exists
exactly when the change that caused it was committed (a failed call leaves
neither). Which events notify whom is the table in ``rules.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ...context import ServiceContext
from ...events import DomainEvent
from ...tables import NotificationPreferenceRow, NotificationRow, ProjectRow, UserRow
from .rules import RULES_BY_EVENT, Rule, Template

MAX_TITLE = 200
MAX_BODY = 1000


class _Fields(dict[str, Any]):
    """Template fields: a field the event lacks reads "?" instead of failing the call."""

    def __missing__(self, key: str) -> str:
        return "?"


def _text(template: Template, fields: Mapping[str, Any], limit: int) -> str:
    try:
        text = template(fields) if callable(template) else template.format_map(fields)
    except (IndexError, KeyError, ValueError, TypeError, AttributeError):
        # A template that does not fit its event must never break the service call.
        text = template if isinstance(template, str) else ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


class NotificationProducer:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def __call__(self, s: AsyncSession, ev: DomainEvent) -> None:
        rules = RULES_BY_EVENT.get(ev.kind)
        if not rules:
            return
        told: set[str] = set()  # one notification per user per event
        fields: _Fields | None = None
        for rule in rules:
            if rule.when is not None and not rule.when(ev):
                continue
            wanted = {uid for uid in await rule.to(s, ev) if uid} - told - {ev.actor_id}
            users = await self._willing(s, wanted, rule.kind, ev.project_id)
            if not users:
                continue
            if fields is None:
                fields = await self._fields(s, ev)
            for uid in sorted(users):  # sorted: ids come out in the same order every run
                s.add(self._row(rule, ev, uid, fields))
            told |= users

    async def _willing(self, s: AsyncSession, wanted: set[str], kind: str, project_id: str | None) -> set[str]:
        """Those of ``wanted`` who exist, are enabled, and have not muted the kind or project."""
        if not wanted:
            return set()
        users = set(await s.scalars(select(col(UserRow.id))
                                    .where(col(UserRow.id).in_(wanted), col(UserRow.disabled).is_(False))))
        if not users:
            return users
        prefs = await s.scalars(select(NotificationPreferenceRow)
                                .where(col(NotificationPreferenceRow.user_id).in_(users)))
        for p in prefs:
            if kind in p.muted_kinds or (project_id is not None and project_id in p.muted_projects):
                users.discard(p.user_id)
        return users

    async def _fields(self, s: AsyncSession, ev: DomainEvent) -> _Fields:
        fields = _Fields({k: _shown(v) for k, v in ev.data.items()})
        fields["actor"] = ev.actor or "someone"
        project = fields.get("project_name") or fields.get("project")
        if not project and ev.project_id:
            project = await s.scalar(select(col(ProjectRow.name)).where(col(ProjectRow.id) == ev.project_id))
        fields["project"] = project or "a project"
        return fields

    def _row(self, rule: Rule, ev: DomainEvent, user_id: str, fields: _Fields) -> NotificationRow:
        linked = ev.data.get(rule.link_to[1]) if rule.link_to else None
        if rule.link_to and isinstance(linked, str) and linked:
            resource_type, resource_id = rule.link_to[0], linked
        elif rule.link_project and ev.project_id:
            resource_type, resource_id = "project", ev.project_id
        else:
            resource_type, resource_id = ev.resource_type, ev.resource_id
        return NotificationRow(
            id=self.ctx.ids.new(),
            user_id=user_id,
            kind=rule.kind,
            title=_text(rule.title, fields, MAX_TITLE),
            body=_text(rule.body, fields, MAX_BODY),
            resource_type=resource_type,
            resource_id=resource_id,
            project_id=ev.project_id,
            actor=ev.actor,
            event_id=ev.id,
            created_at=ev.created_at or self.ctx.clock.now(),
        )
