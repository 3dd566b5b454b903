"""Demo data for notifications.

The notifications themselves need no seeding: the demo's own domain events (members
added, access requests, folder proposals) produced them through the producer, as
they would in real use. This only gives the demo user some history (the "added to
a project" ones read) and another user non-default preferences.
"""

from __future__ import annotations

from typing import Any

from ..schemas import NotificationPreferencesUpdate
from .services import Services


async def _seed_notifications(svc: Services, as_: dict[str, Any], users: dict[str, Any],
                              projects: dict[str, Any]) -> None:
    maya = as_["maya"]
    oldest_first = list(reversed((await svc.notifications.list(maya, limit=200)).items))
    for n in oldest_first:
        if n.kind == "project.member_added":  # old news by now
            await svc.notifications.mark_read(maya, n.id)
    # Sam (a viewer) does not want folder-change chatter nor toasts.
    await svc.notifications.update_preferences(as_["sam"], NotificationPreferencesUpdate(
        kinds={"project.folder_update_proposed": False}, toasts=False))
