"""The task state machine: the one place that says where a task may go.

::

    todo ──► in_progress ──► review ──► done
               ▲   │            │
               └───┼── rework ◄─┘          todo | in_progress | review ──► blocked
                   ▼                       blocked ──► the state it left
                 failed ──► todo (retry)   any non-terminal ──► cancelled

``done`` and ``cancelled`` are terminal. ``blocked`` remembers the state it left
(``blocked_from``) and may only go back there (or be cancelled). Moving to
``blocked``, and sending a review back to ``in_progress``, need a reason.
Moving to ``in_progress`` also needs every blocker done; that check needs the
database and lives with the status change, but its message is built here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ....errors import Conflict, Invalid
from ....schemas.tasks import TaskStatus

TODO, IN_PROGRESS, REVIEW, BLOCKED = TaskStatus.todo, TaskStatus.in_progress, TaskStatus.review, TaskStatus.blocked
DONE, FAILED, CANCELLED = TaskStatus.done, TaskStatus.failed, TaskStatus.cancelled

#: Allowed moves, except out of ``blocked`` (which depends on where it came from).
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TODO: frozenset({IN_PROGRESS, BLOCKED, CANCELLED}),
    IN_PROGRESS: frozenset({REVIEW, BLOCKED, FAILED, CANCELLED}),
    REVIEW: frozenset({DONE, IN_PROGRESS, BLOCKED, CANCELLED}),
    BLOCKED: frozenset({CANCELLED}),  # + blocked_from
    FAILED: frozenset({TODO, CANCELLED}),
    DONE: frozenset(),
    CANCELLED: frozenset(),
}
TERMINAL = frozenset({DONE, CANCELLED})
#: States a task may be blocked from (and so return to).
BLOCKABLE = frozenset({TODO, IN_PROGRESS, REVIEW})
#: Moves that must say why.
NEEDS_REASON = frozenset({(REVIEW, IN_PROGRESS)}) | {(s, BLOCKED) for s in BLOCKABLE}
#: Board order of the columns, and which ones hide behind a toggle.
BOARD_COLUMNS = (TODO, IN_PROGRESS, REVIEW, BLOCKED, DONE)
HIDDEN_COLUMNS = (FAILED, CANCELLED)
PRIORITY_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3}


def parse_status(value: str | TaskStatus) -> TaskStatus:
    """A status name, or ``Invalid`` naming the ones that exist."""
    try:
        return TaskStatus(str(getattr(value, "value", value)).strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in TaskStatus)
        raise Invalid(f"unknown task status {value!r}; one of: {names}") from None


def allowed_from(current: TaskStatus, blocked_from: str | None = None) -> list[TaskStatus]:
    """Where a task in ``current`` may go, in board order."""
    allowed = set(TRANSITIONS[current])
    if current == BLOCKED and blocked_from:
        allowed.add(TaskStatus(blocked_from))
    return [s for s in TaskStatus if s in allowed]


@dataclass(frozen=True)
class Move:
    """A checked transition: the new status and what to remember about it."""

    old: TaskStatus
    new: TaskStatus
    blocked_from: TaskStatus | None  # set when entering blocked, cleared otherwise
    reason: str


def _names(states: Iterable[TaskStatus]) -> str:
    return ", ".join(s.value for s in states) or "none (it is final)"


def check_move(current: str, target: str | TaskStatus, blocked_from: str | None, reason: str = "") -> Move:
    """The move ``current → target``, or ``Conflict`` naming the allowed ones."""
    old, new = parse_status(current), parse_status(target)
    allowed = allowed_from(old, blocked_from)
    if new == old:
        raise Conflict(f"the task is already {old.value}")
    if new not in allowed:
        where = f" (it was blocked from {blocked_from})" if old == BLOCKED and blocked_from else ""
        raise Conflict(f"a {old.value} task cannot move to {new.value}{where}; allowed: {_names(allowed)}")
    reason = reason.strip()
    if (old, new) in NEEDS_REASON and not reason:
        what = "blocking a task" if new == BLOCKED else "sending a task back from review"
        raise Invalid(f"{what} needs a reason")
    return Move(old, new, old if new == BLOCKED else None, reason)


def open_blockers_message(titles: list[str]) -> str:
    shown = ", ".join(repr(t) for t in titles[:5]) + (f" and {len(titles) - 5} more" if len(titles) > 5 else "")
    return f"the task is blocked by {len(titles)} unfinished task{'s' if len(titles) != 1 else ''}: {shown}"
