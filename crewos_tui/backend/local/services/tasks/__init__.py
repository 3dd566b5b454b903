"""Tasks and task reviews: one service object, split by concern.

The state machine is ``lifecycle.py``; every other module goes through it.
"""

from __future__ import annotations

from ...context import ServiceContext
from .core import TaskCore
from .deps import TaskDependencies
from .runs import TaskAgentRuns
from .status import TaskStatusChanges
from .timeline import TaskTimeline


class TaskService(TaskCore, TaskStatusChanges, TaskDependencies, TaskAgentRuns, TaskTimeline):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
