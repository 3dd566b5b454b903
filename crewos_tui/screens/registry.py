"""The top-level screens (Textual modes): one line each, imported on first use.

Only screens that exist are listed. A later slice adds its screen here and gets a
mode key, a palette entry and a help line for free. Screens load lazily, so a
dozen modes cost the first frame nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.screen import Screen


@dataclass(frozen=True)
class ModeSpec:
    name: str  # mode name, also the binding id suffix: "app.mode.<name>"
    title: str
    key: str  # number/letter that switches to it
    target: str  # "module:Class" of the screen

    def factory(self) -> Callable[[], Screen[Any]]:
        def make() -> Screen[Any]:
            module, _, cls = self.target.partition(":")
            return getattr(importlib.import_module(module), cls)()

        return make


MODES: tuple[ModeSpec, ...] = (
    ModeSpec("projects", "Projects", "1", "crewos_tui.screens.projects:ProjectsScreen"),
    ModeSpec("tasks", "Board", "2", "crewos_tui.screens.board:BoardScreen"),
    ModeSpec("chat", "Chat", "3", "crewos_tui.screens.chat:ChatScreen"),
    ModeSpec("review", "Review", "4", "crewos_tui.screens.review:ReviewScreen"),
    ModeSpec("notifications", "Notifications", "5", "crewos_tui.screens.notifications:NotificationsScreen"),
    ModeSpec("sessions", "Sessions", "8", "crewos_tui.screens.sessions:SessionsScreen"),
    ModeSpec("agents", "Agents", "9", "crewos_tui.screens.agents:AgentsScreen"),
    ModeSpec("ledger", "Ledger", "6", "crewos_tui.screens.ledger:LedgerScreen"),
    ModeSpec("knowledge", "Knowledge", "7", "crewos_tui.screens.knowledge:KnowledgeScreen"),
    ModeSpec("admin", "Admin", "0", "crewos_tui.screens.admin:AdminScreen"),
)


def mode(name: str) -> ModeSpec:
    return next(m for m in MODES if m.name == name)
