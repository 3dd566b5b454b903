"""The one table that turns domain events into notifications.

Services only emit domain events (``ctx.events.emit``); the producer
(``producer.py``) looks each event's kind up in ``RULES`` and writes one
notification per recipient, in the emitting transaction. To notify about a new
event, add one ``Rule`` line below (and, for a new notification kind, one line to
``KINDS``: the kinds users can switch off in their preferences).

A rule says:
- ``event``: the domain event kind it reacts to;
- ``kind``: the notification kind (a key of ``KINDS``) users see and can mute;
- ``to``: who is told — user ids named in the event's data (``data_users``),
  project members by role (``project_roles``), a username in the data
  (``user_named``), or several of these (``anyone_of``);
- ``title`` / ``body``: ``str.format`` templates over the event's data plus
  ``{actor}`` (who did it) and ``{project}`` (the project's name); a missing field
  shows as "?" (or a function of that same mapping, for text a template cannot say);
- ``when``: an optional test on the event (e.g. only a move *to* review);
- ``link_project``: link to the project rather than the event's own resource;
  ``link_to``: ``(resource type, data field)`` to link to another resource the
  event names (a job's task), when that field is set.

The producer never tells the actor about their own action, skips disabled users,
kinds a user switched off and projects they muted, and tells each user at most
once per event (the first matching rule wins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....token_units import format_units
from ...events import DomainEvent
from ...tables import ProjectMemberRow, UserRow

Recipients = Callable[[AsyncSession, DomainEvent], Awaitable[Iterable[str]]]
Template = str | Callable[[Mapping[str, Any]], str]

#: Notification kind -> what it means (the preferences form shows these).
KINDS: dict[str, str] = {
    # projects and collaboration
    "project.member_added": "You were added to a project",
    "project.member_role_changed": "Your role in a project changed",
    "project.member_removed": "You were removed from a project",
    "project.archived": "A project you belong to was archived",
    "project.access_requested": "Someone asks to join a project you own",
    "project.access_approved": "Your access request was approved",
    "project.access_rejected": "Your access request was rejected",
    "project.folder_update_proposed": "A folder change awaits your decision",
    "project.folder_update_approved": "Your folder change was approved",
    "project.folder_update_rejected": "Your folder change was rejected",
    # project tokenization
    "token.request_awaiting_approval": "A token request awaits your approval",
    "token.request_approved": "Your token request was approved",
    "token.request_rejected": "Your token request was rejected",
    "token.request_executed": "A token request you made or approved was executed",
    "token.request_failed": "A token request you made or approved failed",
    "token.wallet_changed": "Tokens moved into or out of your wallet",
    # tasks and agent jobs
    "task.assigned": "A task was assigned to you",
    "task.review": "A task you created or own moved to review",
    "job.finished": "An agent job you started finished",
    "job.failed": "An agent job you started failed",
    # review queue
    "review.requested": "Your review is requested",
    "review.decided": "A decision on something you submitted for review",
    # chat sessions
    "session.shared": "A chat session was shared with you",
    "chat.mention": "Someone mentioned you (@name) in a chat session shared with you",
}


@dataclass(frozen=True)
class Rule:
    event: str
    kind: str
    to: Recipients
    title: Template
    body: Template = ""
    when: Callable[[DomainEvent], bool] | None = None
    link_project: bool = False
    link_to: tuple[str, str] | None = None


# ---- recipients -------------------------------------------------------------------


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set):
        return [v for v in value if isinstance(v, str)]
    return []


def data_users(*keys: str) -> Recipients:
    """The user ids in these data fields (a single id or a list of ids)."""

    async def resolve(_s: AsyncSession, ev: DomainEvent) -> list[str]:
        return [uid for key in keys for uid in _ids(ev.data.get(key))]

    return resolve


def project_roles(*roles: str) -> Recipients:
    """Members of the event's project with one of these roles."""

    async def resolve(s: AsyncSession, ev: DomainEvent) -> list[str]:
        if ev.project_id is None:
            return []
        rows = await s.scalars(select(col(ProjectMemberRow.user_id)).where(
            col(ProjectMemberRow.project_id) == ev.project_id, col(ProjectMemberRow.role).in_(roles)))
        return list(rows)

    return resolve


def user_named(key: str) -> Recipients:
    """The user whose username is in this data field (older events name people by username)."""

    async def resolve(s: AsyncSession, ev: DomainEvent) -> list[str]:
        name = ev.data.get(key)
        if not isinstance(name, str) or not name:
            return []
        uid = await s.scalar(select(col(UserRow.id)).where(col(UserRow.username) == name))
        return [uid] if uid else []

    return resolve


def anyone_of(*sources: Recipients) -> Recipients:
    async def resolve(s: AsyncSession, ev: DomainEvent) -> list[str]:
        out: list[str] = []
        for source in sources:
            out.extend(await source(s, ev))
        return out

    return resolve


def _folder_change(f: Mapping[str, Any]) -> str:
    target = f"{f['path']} → {f['new_path']}" if f.get("new_path") else f"{f['path']}"
    return f"{f['action']} {target}"


def _token_op(f: Mapping[str, Any]) -> str:
    """``transfer of 125.00 ATL`` (amounts are integers; the token's decimals say how to show them)."""
    amount, decimals = f.get("amount"), f.get("decimals")
    if not isinstance(amount, int) or not isinstance(decimals, int):
        return f"{f.get('op', 'token change')}"
    text = f"{f.get('op', 'token change')} of {format_units(amount, decimals)} {f.get('symbol', '')}".rstrip()
    return text + (f" ({f['memo']})" if f.get("memo") else "")


# ---- the table ----------------------------------------------------------------------

RULES: tuple[Rule, ...] = (
    # projects and collaboration (foundation)
    Rule("project.member_added", "project.member_added", data_users("user_id"),
         "Added to {project}", "{actor} added you as {role}.", link_project=True),
    Rule("project.member_role_changed", "project.member_role_changed", data_users("user_id"),
         "Your role in {project} is now {role}", "{actor} changed your role from {old_role} to {role}.",
         link_project=True),
    Rule("project.member_removed", "project.member_removed", data_users("user_id"),
         "Removed from {project}", "{actor} removed you from the project.", link_project=True),
    Rule("project.archived", "project.archived", project_roles("owner", "editor", "viewer"),
         "{project} was archived", "{actor} archived the project; it is read-only now.", link_project=True),
    Rule("project.access_requested", "project.access_requested", project_roles("owner"),
         "{actor} asks to join {project}", "Requested role: {role}. Approve or reject it on the project."),
    Rule("project.access_approved", "project.access_approved", data_users("user_id"),
         "Access to {project} approved", "{actor} approved your request; your role is {role}."),
    Rule("project.access_rejected", "project.access_rejected", data_users("user_id"),
         "Access to {project} rejected", "{actor} rejected your request to join."),
    Rule("project.folder_update_proposed", "project.folder_update_proposed", project_roles("owner", "editor"),
         "Folder change proposed in {project}", lambda f: f"{f['actor']} proposes: {_folder_change(f)}."),
    Rule("project.folder_update_approved", "project.folder_update_approved", user_named("proposed_by"),
         "Folder change approved in {project}", lambda f: f"{f['actor']} approved: {_folder_change(f)}."),
    Rule("project.folder_update_rejected", "project.folder_update_rejected", user_named("proposed_by"),
         "Folder change rejected in {project}", lambda f: f"{f['actor']} rejected: {_folder_change(f)}."),
    # project tokenization (the events name requester_id, approver_ids, wallet_owner_ids)
    Rule("token.request_created", "token.request_awaiting_approval", data_users("approver_ids"),
         "Token request awaits your approval in {project}", lambda f: f"{f['actor']} asks: {_token_op(f)}."),
    Rule("token.request_approved", "token.request_approved", data_users("requester_id"),
         "Token request approved in {project}", lambda f: f"{f['actor']} approved: {_token_op(f)}."),
    Rule("token.request_rejected", "token.request_rejected", data_users("requester_id"),
         "Token request rejected in {project}", lambda f: f"{f['actor']} rejected: {_token_op(f)}."),
    Rule("token.request_executed", "token.request_executed", data_users("requester_id", "approver_ids"),
         "Token request executed in {project}", lambda f: f"{f['actor']} executed: {_token_op(f)}."),
    Rule("token.request_failed", "token.request_failed", data_users("requester_id", "approver_ids"),
         "Token request failed in {project}", lambda f: f"{_token_op(f)}: {f.get('reason', '?')}"),
    # The link is the transaction that moved the tokens (the ledger's history shows it).
    *(Rule(event, "token.wallet_changed", data_users("wallet_owner_ids"), "Your {project} wallet changed",
           lambda f: f"{f['actor']}: {_token_op(f)}.")
      for event in ("token.minted", "token.transferred", "token.burned")),
    # tasks (task.* events name assignee_id and created_by_id) and agent jobs (user_id: who started it)
    Rule("task.assigned", "task.assigned", data_users("assignee_id"),
         "Task assigned to you in {project}", "{actor} assigned you “{title}”.",
         when=lambda ev: bool(ev.data.get("assignee_id"))),
    Rule("task.status_changed", "task.review", data_users("created_by_id", "assignee_id"),
         "Task ready for review in {project}", "{actor} moved “{title}” to review.",
         when=lambda ev: ev.data.get("new") == "review"),
    Rule("agent_job.succeeded", "job.finished", data_users("user_id"),
         "Agent job finished in {project}", "Your {job_kind} job finished.", link_to=("task", "task_id")),
    Rule("agent_job.failed", "job.failed", data_users("user_id"),
         "Agent job failed in {project}", "Your {job_kind} job failed: {message}", link_to=("task", "task_id")),
    # review queue (review.* events name submitter_id and requested_reviewer_ids)
    Rule("review.submitted", "review.requested", data_users("requested_reviewer_ids"),
         "Review requested in {project}", "{actor} asks for your review of “{title}”."),
    *(Rule(f"review.{past}", "review.decided", data_users("submitter_id"),
           f"Your submission was {past}", lambda f, past=past: f"{f['actor']} {past} “{f['title']}”"
           + (f": {f['reason']}" if f.get("reason") else "."))
      for past in ("approved", "rejected", "quarantined", "released")),
    # chat sessions (user_id: the invitee)
    Rule("session.shared", "session.shared", data_users("user_id"),
         "{actor} shared a chat session with you", "“{title}” — accept it on the sessions screen."),
    Rule("chat.message_sent", "chat.mention", data_users("mentioned_ids"),
         "{actor} mentioned you in “{title}”", "{excerpt}", when=lambda ev: bool(ev.data.get("mentioned_ids"))),
)


def _check(rules: tuple[Rule, ...]) -> dict[str, tuple[Rule, ...]]:
    by_event: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.kind not in KINDS:  # a typo here would silently produce nothing
            raise ValueError(f"notification rule for {rule.event!r} names unknown kind {rule.kind!r}")
        by_event.setdefault(rule.event, []).append(rule)
    return {event: tuple(found) for event, found in by_event.items()}


#: Event kind -> its rules, in table order.
RULES_BY_EVENT: dict[str, tuple[Rule, ...]] = _check(RULES)
