"""A planner's proposal turned into tasks, once per proposal.

The planner's reply carries ``data["proposal"]["tasks"]`` (title, description,
priority, ``depends_on`` indexes; ``agents/planner.py``). Accepting it creates one
task per item, each with an idempotency key derived from the reply's message id,
the project and the item's index (``backend/idempotency.py``). The service layer
keeps that key with the task in the same transaction, so accepting the same
proposal again (twice in a row, after a restart, or on a served workspace) answers
the tasks made the first time instead of making them again, and says which those
were. A run cut short part way makes only the rest the next time.

Keys belong to the caller and are kept for ``KEPT`` (24 h): another user accepting the
same proposal makes their own tasks, and so does the same user a day later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .idempotency import idempotency_key
from .protocol.tasks import TasksAPI
from .schemas.tasks import Task, TaskCreate


def proposal_task_key(message_id: str, project_id: str, index: int) -> str:
    """The idempotency key of item ``index`` of the proposal in ``message_id`` made into
    ``project_id``: printable ASCII whatever the ids hold (a hash of them)."""
    digest = hashlib.sha256(f"{message_id}\x00{project_id}".encode()).hexdigest()[:40]
    return f"chat-proposal:{digest}:{index}"


@dataclass
class ProposalOutcome:
    """The proposal's tasks in its order: those made now and those made before."""

    created: list[Task] = field(default_factory=list)
    skipped: list[Task] = field(default_factory=list)


async def accept_proposal(
    tasks: TasksAPI, items: Sequence[Mapping[str, Any]], *, message_id: str, project_id: str
) -> ProposalOutcome:
    """Create the proposal's tasks in ``project_id``, skipping those this proposal made
    before; an item's ``depends_on`` (indexes of earlier items) become its blockers."""
    outcome = ProposalOutcome()
    ids: list[str] = []
    for index, item in enumerate(items):
        blockers = [ids[i] for i in item.get("depends_on", []) if isinstance(i, int) and 0 <= i < len(ids)]
        data = TaskCreate(
            project_id=project_id,
            title=item["title"],
            description=item.get("description", ""),
            priority=item.get("priority", "medium"),
            blocked_by=blockers,
        )
        with idempotency_key(proposal_task_key(message_id, project_id, index)) as key:
            task = await tasks.create(data)
        (outcome.skipped if key.replayed else outcome.created).append(task)
        ids.append(task.id)
    return outcome
