"""The review item state machine: the one place that says which decision may follow which.

    pending ──approve──▶ approved      (terminal)
    pending ──reject───▶ rejected      (terminal)
    pending ──quarantine▶ quarantined ──release──▶ pending
                          quarantined ──reject───▶ rejected

Quarantine needs a reason. Anything else is a 409 that names what is allowed.
"""

from __future__ import annotations

from ....errors import Conflict, Invalid

TRANSITIONS: dict[str, dict[str, str]] = {
    "pending": {"approve": "approved", "reject": "rejected", "quarantine": "quarantined"},
    "quarantined": {"release": "pending", "reject": "rejected"},
    "approved": {},
    "rejected": {},
}
#: Decisions that must say why.
NEEDS_REASON = frozenset({"quarantine"})
#: States still waiting for someone (the queue a reviewer clears).
OPEN_STATES = ("pending", "quarantined")
#: Verb → past tense, for messages and event kinds.
PAST = {"approve": "approved", "reject": "rejected", "quarantine": "quarantined", "release": "released"}


def next_state(state: str, action: str, reason: str = "") -> str:
    """The state ``action`` leads to from ``state``, or the error saying why not."""
    allowed = TRANSITIONS.get(state, {})
    target = allowed.get(action)
    if target is None:
        if not allowed:
            raise Conflict(f"the item is already {state}; a decided item cannot be changed")
        choices = ", ".join(sorted(allowed))
        raise Conflict(f"cannot {action} an item that is {state} (allowed: {choices})")
    if action in NEEDS_REASON and not reason.strip():
        raise Invalid(f"{action} needs a reason")
    return target


def allowed_actions(state: str) -> list[str]:
    return sorted(TRANSITIONS.get(state, {}))
