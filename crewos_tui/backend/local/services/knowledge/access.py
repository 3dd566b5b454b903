"""Who may read and write which knowledge namespaces: the one place for these rules.

- A namespace is visible to a user when one of their ``namespace_grants`` matches its
  name (patterns: ``*`` matches any characters, e.g. ``eng/*``). Admins (and the
  command line) see every namespace.
- Members write in the namespaces they can see; viewers only read. Writing to a
  granted namespace that does not exist yet creates it.
- A namespace outside the caller's grants does not exist for them: reading it, or an
  entry in it, is 404 (existing or not, so nothing leaks); writing to a name outside
  their grants is 403.
- Built-in agents are narrowed further by the admin's agent namespace policy
  (``agent_scope``): the caller's grants still apply, a policy only removes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Forbidden, NotFound
from ....principal import Principal
from ...tables import KnowledgeEntryRow, KnowledgeNamespaceRow
from .._common import require_user


def grant_matches(principal: Principal, namespace: str) -> bool:
    if principal.is_admin:
        return True
    return any(fnmatchcase(namespace, grant) for grant in principal.namespace_grants)


@dataclass
class Scope:
    """The namespaces one caller may see, resolved against those that exist."""

    principal: Principal
    existing: list[str]
    visible: list[str]  # existing namespaces the caller can see, sorted
    everything: bool  # admin: no filter needed
    agent: str | None = None

    def can_read(self, namespace: str) -> bool:
        return namespace in self._visible_set

    def can_write(self, namespace: str) -> bool:
        return self.principal.role != "viewer" and grant_matches(self.principal, namespace)

    def __post_init__(self) -> None:
        self._visible_set = set(self.visible)

    def require_read(self, namespace: str) -> None:
        """Visible, or granted by name and still empty (it reads as an empty namespace)."""
        if self.can_read(namespace):
            return
        granted = any(fnmatchcase(namespace, g) for g in self.principal.namespace_grants)
        if namespace in self.existing or not granted:
            raise NotFound(f"namespace {namespace!r} not found")

    def require_write(self, namespace: str) -> None:
        if self.principal.role == "viewer":
            raise Forbidden("viewers can read the knowledge base but not change it")
        if not grant_matches(self.principal, namespace):
            raise Forbidden(f"namespace {namespace!r} is not in your namespace grants; an admin can grant it")

    def where(self, column: Any, only: Iterable[str] | None = None) -> Any:
        """A filter on a namespace column: the visible namespaces (narrowed to ``only``)."""
        if only is not None:
            wanted = list(dict.fromkeys(only))
            for name in wanted:
                self.require_read(name)
            return column.in_(wanted)
        if self.everything and self.agent is None:
            return true()
        return column.in_(self.visible)


async def scope_of(s: AsyncSession, principal: Principal) -> Scope:
    require_user(principal)
    existing = sorted((await s.scalars(select(col(KnowledgeNamespaceRow.name)))).all())
    visible = [n for n in existing if grant_matches(principal, n)]
    return Scope(principal, existing, visible, everything=principal.is_admin)


async def agent_scope(s: AsyncSession, principal: Principal, agent: str) -> Scope:
    """The caller's scope narrowed by ``agent``'s namespace policy (read patterns)."""
    from ..admin.policies import agent_may_access  # the admin slice owns the policies

    scope = await scope_of(s, principal)
    allowed = [n for n in scope.visible if await agent_may_access(s, agent, n, "read")]
    return Scope(principal, scope.existing, allowed, everything=False, agent=agent)


async def agent_may_write(s: AsyncSession, principal: Principal, agent: str, namespace: str) -> bool:
    from ..admin.policies import agent_may_access

    scope = await scope_of(s, principal)
    return scope.can_write(namespace) and await agent_may_access(s, agent, namespace, "write")


async def ensure_namespace(s: AsyncSession, scope: Scope, namespace: str, now: Any) -> None:
    """Check the caller may write ``namespace``; create it on first use."""
    scope.require_write(namespace)
    if namespace not in scope.existing:
        s.add(KnowledgeNamespaceRow(name=namespace, created_by=scope.principal.username, created_at=now))
        await s.flush()
        scope.existing.append(namespace)
        scope.visible.append(namespace)
        scope._visible_set.add(namespace)


async def load_entry(s: AsyncSession, scope: Scope, entry_id: str, *, write: bool = False) -> KnowledgeEntryRow:
    """The entry if the caller can see its namespace (404 otherwise); ``write`` also
    checks they may change it (403)."""
    row = await s.get(KnowledgeEntryRow, entry_id)
    if row is None or not scope.can_read(row.namespace):
        raise NotFound(f"knowledge entry {entry_id} not found")
    if write:
        scope.require_write(row.namespace)
    return row
