"""A planner's proposal made into tasks (``backend/proposal.py``), on both backends:
once per proposal, whatever is accepted again; a run cut short makes only the rest."""

from __future__ import annotations

import uuid

from crewos_tui.backend.proposal import accept_proposal, proposal_task_key
from crewos_tui.backend.schemas import ProjectCreate

from ..conftest import unique

TEAM = unique("proposal-team-")
ITEMS = [
    {"title": "Record the demo", "description": "Five minutes.", "priority": "high", "depends_on": []},
    {"title": "Email the customers", "description": "", "priority": "medium", "depends_on": [0]},
    {"title": "Publish the notes", "depends_on": [0, 1]},
]


def reply_id() -> str:
    """The id of a planner's reply (the proposal's message)."""
    return str(uuid.uuid4())


async def editor_with_project(world):
    b = await world.as_(await world.user(team=TEAM))
    return b, await b.projects.create(ProjectCreate(name=unique("Plan ")))


async def titles(b, project) -> list[str]:
    return sorted(t.title for t in (await b.tasks.list(project_id=project.id, limit=200)).items)


async def test_accepting_a_proposal_twice_makes_each_task_once(world):
    b, project = await editor_with_project(world)
    message_id = reply_id()
    first = await accept_proposal(b.tasks, ITEMS, message_id=message_id, project_id=project.id)
    assert [t.title for t in first.created] == [i["title"] for i in ITEMS] and first.skipped == []
    again = await accept_proposal(b.tasks, ITEMS, message_id=message_id, project_id=project.id)
    assert again.created == [] and [t.id for t in again.skipped] == [t.id for t in first.created]
    assert await titles(b, project) == sorted(i["title"] for i in ITEMS)
    record, email, publish = first.created
    assert [r.id for r in (await b.tasks.get(email.id)).blocked_by] == [record.id]
    assert sorted(r.id for r in (await b.tasks.get(publish.id)).blocked_by) == sorted([record.id, email.id])


async def test_a_run_cut_short_makes_only_the_rest_and_links_it_to_what_was_made(world):
    b, project = await editor_with_project(world)
    message_id = reply_id()
    cut = await accept_proposal(b.tasks, ITEMS[:1], message_id=message_id, project_id=project.id)
    rest = await accept_proposal(b.tasks, ITEMS, message_id=message_id, project_id=project.id)
    assert [t.id for t in rest.skipped] == [cut.created[0].id]
    assert [t.title for t in rest.created] == ["Email the customers", "Publish the notes"]
    assert await titles(b, project) == sorted(i["title"] for i in ITEMS)
    assert [r.id for r in (await b.tasks.get(rest.created[0].id)).blocked_by] == [cut.created[0].id]


async def test_another_proposal_or_another_project_is_made_anew(world):
    b, project = await editor_with_project(world)
    other = await b.projects.create(ProjectCreate(name=unique("Plan ")))
    message_id = reply_id()
    await accept_proposal(b.tasks, ITEMS[:1], message_id=message_id, project_id=project.id)
    elsewhere = await accept_proposal(b.tasks, ITEMS[:1], message_id=message_id, project_id=other.id)
    later = await accept_proposal(b.tasks, ITEMS[:1], message_id=reply_id(), project_id=project.id)
    assert len(elsewhere.created) == len(later.created) == 1
    assert await titles(b, project) == ["Record the demo", "Record the demo"]
    assert await titles(b, other) == ["Record the demo"]


def test_the_key_is_printable_ascii_whatever_the_ids_hold():
    key = proposal_task_key("msg\n\u00e9" * 100, "proj ", 7)
    assert key.startswith("chat-proposal:") and key.endswith(":7") and len(key) < 80
    assert all(" " < ch <= "~" for ch in key)
    assert key == proposal_task_key("msg\n\u00e9" * 100, "proj ", 7) != proposal_task_key("msg", "proj ", 7)
