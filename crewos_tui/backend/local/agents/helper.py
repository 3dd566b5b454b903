"""The helper: what the workbench can do, and what is waiting for the caller.

It lists pending access requests and folder changes in projects the caller
manages, pending reviews and unread notifications (when those slices exist) and
session invitations, the knowledge entries that match the message (as far as the
helper's agent namespace policy lets it read), then explains the agents and screens.
Deterministic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col as sql_col

from ...principal import Principal
from ..tables import (
    AccessRequestRow,
    FolderUpdateRow,
    ProjectMemberRow,
    ProjectRow,
    UserRow,
)
from .facts import AgentInput, col, knowledge_hits, table
from .registry import AgentSpec, BuiltinResult, SkillSpec, register

WORKBENCH = """## What this workbench does
- **Projects**: create projects from templates, manage members, folders and documents.
- **Chat**: ask the built-in agents. *reporter* writes a project update, *planner* turns
  a request into tasks you can accept into the board, *helper* (me) explains and lists
  what waits for you. Pick an agent explicitly or let the message decide.
- **Sessions**: every chat is a session you can rename, share, close, archive, export
  as a transcript and replay.
- **Agents**: the agents, their skills and the agent card other tools discover.
- Press `ctrl+p` for the command palette and `?` for the keys of the current screen.
"""


async def _managed_projects(s: AsyncSession, p: Principal) -> Any:
    """Ids of projects whose requests the caller decides (owner, or any for an admin)."""
    if p.is_admin:
        return select(sql_col(ProjectRow.id))
    return select(sql_col(ProjectMemberRow.project_id)).where(sql_col(ProjectMemberRow.user_id) == p.user_id,
                                                     sql_col(ProjectMemberRow.role) == "owner")


async def _member_projects(p: Principal) -> Any:
    if p.is_admin:
        return select(sql_col(ProjectRow.id))
    return select(sql_col(ProjectMemberRow.project_id)).where(sql_col(ProjectMemberRow.user_id) == p.user_id)


async def pending_items(s: AsyncSession, p: Principal) -> list[str]:
    managed = await _managed_projects(s, p)
    lines: list[str] = []
    reqs = (await s.execute(
        select(sql_col(UserRow.username), sql_col(ProjectRow.name), sql_col(AccessRequestRow.role))
        .join(UserRow, sql_col(UserRow.id) == sql_col(AccessRequestRow.user_id))
        .join(ProjectRow, sql_col(ProjectRow.id) == sql_col(AccessRequestRow.project_id))
        .where(sql_col(AccessRequestRow.status) == "pending", sql_col(AccessRequestRow.project_id).in_(managed))
        .order_by(sql_col(AccessRequestRow.id)))).all()
    for user, project, role in reqs[:5]:
        lines.append(f"- Access request: **{user}** asks to join *{project}* as {role}")
    if len(reqs) > 5:
        lines.append(f"- … and {len(reqs) - 5} more access requests")
    folders = (await s.execute(
        select(sql_col(FolderUpdateRow.action), sql_col(FolderUpdateRow.path), sql_col(FolderUpdateRow.new_path),
               sql_col(ProjectRow.name))
        .join(ProjectRow, sql_col(ProjectRow.id) == sql_col(FolderUpdateRow.project_id))
        .where(sql_col(FolderUpdateRow.status) == "pending", sql_col(FolderUpdateRow.project_id).in_(managed))
        .order_by(sql_col(FolderUpdateRow.id)))).all()
    for action, path, new_path, project in folders[:5]:
        target = f" → `{new_path}`" if new_path else ""
        lines.append(f"- Folder change: {action} `{path}`{target} in *{project}*")
    if len(folders) > 5:
        lines.append(f"- … and {len(folders) - 5} more folder changes")
    reviews = table("review_items", "reviews", "task_reviews")
    state = col(reviews, "status", "state") if reviews is not None else None
    if reviews is not None and state is not None and col(reviews, "project_id") is not None:
        n = await s.scalar(select(func.count()).select_from(reviews).where(
            state == "pending", reviews.c.project_id.in_(await _member_projects(p))))
        if n:
            lines.append(f"- {n} review item{'s' if n != 1 else ''} waiting for a decision")
    notes = table("notifications")
    if notes is not None and col(notes, "user_id") is not None:
        unread = col(notes, "read_at")
        where = [notes.c.user_id == p.user_id]
        if unread is not None:
            where.append(unread.is_(None))
            if col(notes, "dismissed_at") is not None:
                where.append(notes.c.dismissed_at.is_(None))
        elif col(notes, "read") is not None:
            where.append(notes.c.read.is_(False))
        n = await s.scalar(select(func.count()).select_from(notes).where(*where))
        if n:
            lines.append(f"- {n} unread notification{'s' if n != 1 else ''}")
    shares = table("session_shares")
    if shares is not None:
        n = await s.scalar(select(func.count()).select_from(shares).where(
            shares.c.invitee_id == p.user_id, shares.c.status == "pending"))
        if n:
            lines.append(f"- {n} chat session{'s' if n != 1 else ''} shared with you, waiting for you to accept")
    return lines


async def produce(inp: AgentInput) -> BuiltinResult:
    items = await pending_items(inp.session, inp.principal)
    lines = [f"# Hello, {inp.principal.username}", "", "## Waiting for you"]
    lines += items or ["Nothing is waiting for you right now."]
    sources = ["workspace"]
    hits = await knowledge_hits(inp, "helper")  # under the helper's namespace policy
    if hits:
        lines += ["", "## From the knowledge base"]
        for hit in hits:
            entry = hit.entry
            note = " ".join((hit.snippet or entry.excerpt).replace("«", "").replace("»", "").split())
            lines.append(f"- **{entry.title}** (`{entry.namespace}`){': ' + note if note else ''}")
            sources.append(f"knowledge:{entry.id}")
    lines += ["", WORKBENCH]
    return BuiltinResult(text="\n".join(lines).rstrip() + "\n", sources=sources)


register(AgentSpec(
    name="helper",
    title="Helper",
    description="Explains what the workbench can do and lists what is waiting for you.",
    tags=("help", "inbox"),
    examples=("What can I do here?", "What is waiting for me?"),
    produce=produce,
    skills=(
        SkillSpec(id="workbench-help", name="Workbench help",
                  description="Explains the screens, agents and keys of the workbench.",
                  tags=("help",), examples=("What can I do here?",)),
        SkillSpec(id="pending-items", name="Pending items",
                  description="Lists access requests, folder changes, reviews, notifications and invitations "
                              "that wait for you.",
                  tags=("inbox", "review"), examples=("What is waiting for me?",)),
    ),
))
