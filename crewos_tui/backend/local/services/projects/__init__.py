"""Projects and collaboration: one service object, split by concern."""

from __future__ import annotations

from ...context import ServiceContext
from .core import ProjectCore
from .files import ProjectFiles
from .members import ProjectMembers


class ProjectService(ProjectCore, ProjectMembers, ProjectFiles):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
