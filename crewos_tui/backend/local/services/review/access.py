"""Who may see and decide review items: the one place for review permissions.

- Admins see every item. Others see the items of projects they are members of, and
  the project-less items they submitted or were asked to review. An invisible item
  is 404, never 403.
- Deciding needs the *reviewer role*: admins, and on a project item the project's
  editors and owners (the project roles that may change content). A project-less
  item may also be decided by the reviewers its submitter requested.
- Nobody approves their own submission (rejecting or quarantining it is allowed:
  withdrawing a bad item must not wait for someone else).
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Forbidden, NotFound
from ....principal import Principal
from ...tables import ProjectMemberRow, ReviewItemRow, ReviewRequestedReviewerRow
from .._common import require_user
from ..projects.access import member_role
from .states import allowed_actions

#: Project roles that carry the reviewer role.
REVIEWER_PROJECT_ROLES = frozenset({"editor", "owner"})


def visible_clause(principal: Principal):
    """WHERE clause: the review items ``principal`` may see (None = all, for admins)."""
    if principal.is_admin:
        return None
    me = principal.user_id
    member_projects = select(col(ProjectMemberRow.project_id)).where(col(ProjectMemberRow.user_id) == me)
    asked = exists().where(col(ReviewRequestedReviewerRow.item_id) == col(ReviewItemRow.id),
                           col(ReviewRequestedReviewerRow.user_id) == me)
    return or_(
        col(ReviewItemRow.project_id).in_(member_projects),
        and_(col(ReviewItemRow.project_id).is_(None), or_(col(ReviewItemRow.submitter_id) == me, asked)),
    )


async def can_see(s: AsyncSession, principal: Principal, item: ReviewItemRow) -> bool:
    if principal.is_admin:
        return True
    if principal.user_id is None:
        return False
    if item.project_id is not None:
        return await member_role(s, item.project_id, principal.user_id) is not None
    return item.submitter_id == principal.user_id or principal.user_id in (item.requested_reviewer_ids or [])


async def load_item(s: AsyncSession, principal: Principal, item_id: str) -> ReviewItemRow:
    """The item as the caller may see it, or NotFound."""
    require_user(principal)
    item = await s.get(ReviewItemRow, item_id)
    if item is None or not await can_see(s, principal, item):
        raise NotFound(f"review item {item_id} not found")
    return item


async def decide_refusal(s: AsyncSession, principal: Principal, item: ReviewItemRow, action: str,
                         roles: dict[str, str | None] | None = None) -> str:
    """Why ``principal`` may not take ``action`` on ``item`` ("" when they may). ``roles``
    caches the caller's project roles across the items of one answer."""
    if action == "approve" and item.submitter_id is not None and item.submitter_id == principal.user_id:
        return "you submitted this item; someone else must approve it"
    if principal.is_admin:
        return ""
    if item.project_id is not None:
        if roles is not None and item.project_id in roles:
            role = roles[item.project_id]
        else:
            role = await member_role(s, item.project_id, principal.user_id)
            if roles is not None:
                roles[item.project_id] = role
        if role in REVIEWER_PROJECT_ROLES:
            return ""
        return (f"deciding review items needs the reviewer role (project editor or owner); "
                f"you are {role or 'not a member'}")
    if principal.user_id in (item.requested_reviewer_ids or []):
        return ""
    return "deciding this item needs the reviewer role: an admin or a requested reviewer"


async def check_may_decide(s: AsyncSession, principal: Principal, item: ReviewItemRow, action: str) -> None:
    """Raise Forbidden unless ``principal`` holds the reviewer role for ``item``."""
    if why := await decide_refusal(s, principal, item, action):
        raise Forbidden(why)


async def decisions_for(s: AsyncSession, principal: Principal, item: ReviewItemRow,
                        roles: dict[str, str | None] | None = None) -> tuple[list[str], dict[str, str]]:
    """The decisions the item's state allows, split into those the caller may take now and
    those refused to them, with the reason (what the UI shows before anyone presses a key)."""
    allowed: list[str] = []
    refused: dict[str, str] = {}
    for action in allowed_actions(item.state):
        if why := await decide_refusal(s, principal, item, action, roles):
            refused[action] = why
        else:
            allowed.append(action)
    return allowed, refused
