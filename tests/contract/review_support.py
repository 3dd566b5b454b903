"""Setup shared by the review, validation, testing and capability-gap contract tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crewos_tui.backend.schemas import ProjectCreate, ReviewItemCreate, UserInfo

from ..conftest import unique


@dataclass
class ReviewTeam:
    """A project with an owner (who submits), a reviewer (editor) and a viewer member."""

    owner: UserInfo
    reviewer: UserInfo
    viewer: UserInfo
    owner_b: Any
    reviewer_b: Any
    viewer_b: Any
    project_id: str

    async def submit(self, title: str = "", **kw: Any) -> Any:
        data = ReviewItemCreate(title=title or unique("Item "), project_id=kw.pop("project_id", self.project_id),
                                **kw)
        return await self.owner_b.review.submit(data)


#: The team this slice's test users live in: the live server's database is shared by
#: every contract test, and other slices' tests page through the "default" team.
TEAM = "review-slice-tests"


async def user(world: Any, role: str = "member") -> UserInfo:
    return await world.user(role=role, team=TEAM)


async def review_team(world: Any) -> ReviewTeam:
    owner, reviewer, viewer = await user(world), await user(world), await user(world)
    owner_b = await world.as_(owner)
    project = await owner_b.projects.create(ProjectCreate(name=unique("Review ")))
    await owner_b.projects.upsert_member(project.id, reviewer.id, "editor")
    await owner_b.projects.upsert_member(project.id, viewer.id, "viewer")
    return ReviewTeam(owner, reviewer, viewer, owner_b, await world.as_(reviewer), await world.as_(viewer),
                      project.id)
