"""What an ``*_actions`` mixin may use of the screen it is mixed into, declared once.

The board, ledger, projects and review screens keep their actions in a mixin; the screen
(a ``BackendScreen``) provides these properties at run time. Only the type checker reads
this class."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import CrewOSApp
    from ..backend.protocol import Backend


class ScreenHalf:
    if TYPE_CHECKING:
        @property
        def backend(self) -> Backend: ...
        @property
        def crewos(self) -> CrewOSApp: ...
