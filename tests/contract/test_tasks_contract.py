"""Tasks and task reviews, on both backends: every endpoint, every illegal move."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.local.services.tasks.lifecycle import TRANSITIONS
from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.projects import ProjectRole
from crewos_tui.backend.schemas.tasks import (
    AgentRunCreate,
    AgentRunUpdate,
    TaskCreate,
    TaskEventCreate,
    TaskStatus,
    TaskUpdate,
)

from ..conftest import unique

#: The users of these tests get a team of their own: the live server is shared by the
#: whole session, and other tests page through the "default" team's users.
TEAM = unique("tasks-team-")


async def team(world):
    """An owner with a project, an editor and a viewer of it."""
    owner = await world.user(team=TEAM)
    b = await world.as_(owner)
    project = await b.projects.create(ProjectCreate(name=unique("Board ")))
    editor_user, viewer_user = await world.user(team=TEAM), await world.user(team=TEAM)
    await b.projects.upsert_member(project.id, editor_user.id, ProjectRole.editor)
    await b.projects.upsert_member(project.id, viewer_user.id, ProjectRole.viewer)
    return dict(owner=owner, b=b, project=project, editor_user=editor_user, editor=await world.as_(editor_user),
                viewer=await world.as_(viewer_user), viewer_user=viewer_user)


async def new_task(b, project, title: str = "Write the docs", **kw):
    return await b.tasks.create(TaskCreate(project_id=project.id, title=title, **kw))


async def walk(b, task_id: str, *states: str, reason: str = "because") -> None:
    for state in states:
        await b.tasks.set_status(task_id, state, reason)


# ---- create, list, get, update, delete ----------------------------------------------------


async def test_create_get_list(world):
    t = await team(world)
    b, project = t["b"], t["project"]
    task = await new_task(b, project, description="All of them.", priority="high", assignee_id=t["editor_user"].id)
    assert task.status == TaskStatus.todo and task.priority == "high"
    assert task.assignee == t["editor_user"].username and task.created_by_id == t["owner"].id
    detail = await t["viewer"].tasks.get(task.id)  # viewers read
    assert detail.title == "Write the docs" and detail.description == "All of them."
    assert detail.allowed_transitions == [TaskStatus.in_progress, TaskStatus.blocked, TaskStatus.cancelled]
    assert [e.kind for e in detail.recent_events] == ["assigned", "created"]
    ids = [x.id for x in (await b.tasks.list(project_id=project.id)).items]
    assert ids == [task.id]
    assert task.id in [x.id for x in (await b.tasks.list()).items]  # all visible tasks
    assert [x.id for x in (await b.tasks.list(q="docs")).items] == [task.id]
    assert (await b.tasks.list(q="nothing like it")).items == []
    assert [x.id for x in (await b.tasks.list(assignee_id=t["editor_user"].id)).items] == [task.id]


async def test_column_pages_in_board_order(world):
    t = await team(world)
    b, project = t["b"], t["project"]
    low = await new_task(b, project, "low one", priority="low")
    first = await new_task(b, project, "medium first")
    urgent = await new_task(b, project, "urgent", priority="urgent")
    second = await new_task(b, project, "medium second")
    page1 = await b.tasks.list(project_id=project.id, status="todo", limit=2)
    assert [x.id for x in page1.items] == [urgent.id, first.id] and page1.next_cursor
    page2 = await b.tasks.list(project_id=project.id, status="todo", limit=2, cursor=page1.next_cursor)
    assert [x.id for x in page2.items] == [second.id, low.id] and page2.next_cursor is None
    assert (await b.tasks.list(project_id=project.id, status="review")).items == []


async def test_viewers_read_but_do_not_change(world):
    t = await team(world)
    task = await new_task(t["b"], t["project"])
    viewer = t["viewer"]
    with pytest.raises(errors.Forbidden):
        await viewer.tasks.create(TaskCreate(project_id=t["project"].id, title="nope"))
    with pytest.raises(errors.Forbidden):
        await viewer.tasks.update(task.id, TaskUpdate(title="renamed"))
    with pytest.raises(errors.Forbidden):
        await viewer.tasks.set_status(task.id, "in_progress")
    with pytest.raises(errors.Forbidden):
        await viewer.tasks.add_event(task.id, TaskEventCreate(message="hello"))
    assert (await viewer.tasks.list_events(task.id)).items  # but read the timeline


async def test_strangers_get_404(world):
    t = await team(world)
    task = await new_task(t["b"], t["project"])
    stranger = await world.as_(await world.user(team=TEAM))
    with pytest.raises(errors.NotFound):
        await stranger.tasks.get(task.id)
    with pytest.raises(errors.NotFound):
        await stranger.tasks.list_events(task.id)
    with pytest.raises(errors.NotFound):
        await stranger.tasks.list(project_id=t["project"].id)
    with pytest.raises(errors.NotFound):
        await stranger.tasks.create(TaskCreate(project_id=t["project"].id, title="x"))
    assert task.id not in [x.id for x in (await stranger.tasks.list()).items]
    with pytest.raises(errors.NotFound):
        await t["b"].tasks.get("01ARZ3NDEKTSV4RRFFQ69G5FAV")


async def test_update_and_assign(world):
    t = await team(world)
    b = t["b"]
    task = await new_task(b, t["project"])
    updated = await t["editor"].tasks.update(task.id, TaskUpdate(title="Write better docs", priority="urgent",
                                                                 assignee_id=t["viewer_user"].id))
    assert updated.title == "Write better docs" and updated.priority == "urgent"
    assert updated.assignee == t["viewer_user"].username
    unassigned = await b.tasks.update(task.id, TaskUpdate(assignee_id=None))
    assert unassigned.assignee_id is None and unassigned.assignee is None
    kinds = [e.kind for e in (await b.tasks.list_events(task.id)).items]
    assert kinds == ["created", "assigned", "updated", "assigned"]
    with pytest.raises(errors.Invalid):
        await b.tasks.update(task.id, TaskUpdate())
    outsider = await world.user(team=TEAM)
    with pytest.raises(errors.Invalid, match="not a member"):
        await b.tasks.update(task.id, TaskUpdate(assignee_id=outsider.id))


async def test_only_the_creator_or_an_admin_deletes(world):
    t = await team(world)
    task = await new_task(t["editor"], t["project"])
    with pytest.raises(errors.Forbidden):
        await t["b"].tasks.delete(task.id)  # the project owner did not create it
    deleted = await t["editor"].tasks.delete(task.id)
    assert deleted.id == task.id and deleted.deleted
    with pytest.raises(errors.NotFound):
        await t["b"].tasks.get(task.id)
    other = await new_task(t["editor"], t["project"])
    admin = await world.as_(await world.user(role="admin", team=TEAM))
    assert (await admin.tasks.delete(other.id)).id == other.id


# ---- the state machine ------------------------------------------------------------------


async def test_happy_path_and_timeline(world):
    t = await team(world)
    b = t["b"]
    task = await new_task(b, t["project"])
    moved = await b.tasks.set_status(task.id, "in_progress")
    assert moved.status == "in_progress"
    moved = await b.tasks.patch_status(task.id, "review")  # PATCH works too
    assert moved.status == "review"
    done = await t["editor"].tasks.approve(task.id, "Looks good.")
    assert done.status == "done"
    detail = await b.tasks.get(task.id)
    assert detail.review is not None and detail.review.decision == "approved"
    assert detail.review.comment == "Looks good." and detail.review.decided_by == t["editor_user"].username
    assert detail.allowed_transitions == []
    kinds = [e.kind for e in (await b.tasks.list_events(task.id)).items]
    assert kinds == ["created", "status_changed", "status_changed", "review_approved"]


async def reach(b, project, state: str):
    """A fresh task in ``state``."""
    task = await new_task(b, project, unique("task "))
    paths = {"todo": [], "in_progress": ["in_progress"], "review": ["in_progress", "review"],
             "done": ["in_progress", "review", "done"], "failed": ["in_progress", "failed"],
             "cancelled": ["cancelled"], "blocked": ["blocked"]}
    await walk(b, task.id, *paths[state])
    return task


STARTS = [s for s in TaskStatus if s != TaskStatus.blocked]  # blocked: see the next test


@pytest.mark.parametrize("start", STARTS, ids=[s.value for s in STARTS])
async def test_every_illegal_move_is_409_naming_the_allowed_ones(world, start):
    t = await team(world)
    task = await reach(t["b"], t["project"], start.value)
    allowed = [s.value for s in TaskStatus if s in TRANSITIONS[start]]
    illegal = [s for s in TaskStatus if s != start and s not in TRANSITIONS[start]]
    assert illegal
    for target in illegal:
        with pytest.raises(errors.Conflict) as caught:
            await t["b"].tasks.set_status(task.id, target.value, "a reason")
        message = str(caught.value)
        assert f"cannot move to {target.value}" in message
        assert ("allowed: " + ", ".join(allowed)) in message if allowed else "final" in message
    assert (await t["b"].tasks.get(task.id)).status == start  # nothing half-written


async def test_blocked_remembers_where_it_came_from(world):
    t = await team(world)
    b = t["b"]
    task = await reach(b, t["project"], "review")
    with pytest.raises(errors.Invalid, match="reason"):
        await b.tasks.set_status(task.id, "blocked")
    blocked = await b.tasks.block(task.id, "Waiting for legal.")
    assert blocked.status == "blocked" and blocked.blocked_from == "review"
    assert blocked.status_reason == "Waiting for legal."
    for wrong in ("todo", "in_progress", "done"):
        with pytest.raises(errors.Conflict, match="blocked from review"):
            await b.tasks.set_status(task.id, wrong)
    back = await b.tasks.set_status(task.id, "review")
    assert back.status == "review" and back.blocked_from is None


async def test_same_status_and_unknown_status(world):
    t = await team(world)
    task = await new_task(t["b"], t["project"])
    with pytest.raises(errors.Conflict, match="already todo"):
        await t["b"].tasks.set_status(task.id, "todo")
    with pytest.raises(errors.Invalid, match="unknown task status"):
        await t["b"].tasks.set_status(task.id, "finished")
    with pytest.raises(errors.Invalid, match="unknown task status"):
        await t["b"].tasks.list(project_id=t["project"].id, status="finished")


async def test_review_decisions(world):
    t = await team(world)
    b, editor = t["b"], t["editor"]
    task = await reach(b, t["project"], "review")
    with pytest.raises(errors.Invalid):
        await editor.tasks.request_rework(task.id, "")
    with pytest.raises(errors.Forbidden):
        await t["viewer"].tasks.approve(task.id)
    rework = await editor.tasks.request_rework(task.id, "Add the API section.")
    assert rework.status == "in_progress"
    with pytest.raises(errors.Conflict, match="only a task in review"):
        await editor.tasks.approve(task.id)
    await b.tasks.set_status(task.id, "review")
    detail = await b.tasks.get(task.id)
    assert detail.review and detail.review.decision == "rework_requested"
    events = (await b.tasks.list_events(task.id)).items
    rework_event = next(e for e in events if e.kind == "review_rework_requested")
    assert rework_event.message == "Add the API section." and rework_event.actor == t["editor_user"].username


async def test_retry_a_failed_task(world):
    t = await team(world)
    b = t["b"]
    task = await reach(b, t["project"], "failed")
    with pytest.raises(errors.Conflict, match="only a failed task"):
        await b.tasks.retry((await new_task(b, t["project"])).id)
    again = await b.tasks.retry(task.id, "flaky network")
    assert again.status == "todo"
    assert (await b.tasks.list_events(task.id)).items[-1].kind == "retried"


# ---- dependencies -------------------------------------------------------------------------


async def test_dependencies_block_starting_and_refuse_cycles(world):
    t = await team(world)
    b = t["b"]
    design, build, ship = [await new_task(b, t["project"], n) for n in ("Design", "Build", "Ship")]
    dep = await b.tasks.add_dependency(build.id, design.id)
    assert (dep.task_id, dep.blocks_task_id) == (build.id, design.id)
    await b.tasks.add_dependency(ship.id, build.id)
    with pytest.raises(errors.Conflict, match="cycle"):
        await b.tasks.add_dependency(design.id, ship.id)
    with pytest.raises(errors.Conflict, match="already waits"):
        await b.tasks.add_dependency(build.id, design.id)
    with pytest.raises(errors.Invalid):
        await b.tasks.add_dependency(build.id, build.id)
    with pytest.raises(errors.Conflict, match="'Design'"):
        await b.tasks.set_status(build.id, "in_progress")
    detail = await b.tasks.get(build.id)
    assert [r.id for r in detail.blocked_by] == [design.id] and [r.id for r in detail.blocks] == [ship.id]
    assert (detail.blocked_by_count, detail.blocks_count) == (1, 1)
    await walk(b, design.id, "in_progress", "review", "done")
    assert (await b.tasks.set_status(build.id, "in_progress")).blocked_by_count == 0
    removed = await b.tasks.remove_dependency(ship.id, build.id)
    assert removed.id == build.id
    assert (await b.tasks.set_status(ship.id, "in_progress")).status == "in_progress"
    with pytest.raises(errors.NotFound):
        await b.tasks.remove_dependency(ship.id, build.id)


async def test_dependency_on_an_invisible_task_is_404(world):
    t = await team(world)
    mine = await new_task(t["b"], t["project"])
    other_owner = await world.as_(await world.user(team=TEAM))
    secret_project = await other_owner.projects.create(ProjectCreate(name=unique("Secret ")))
    secret = await new_task(other_owner, secret_project)
    with pytest.raises(errors.NotFound):
        await t["b"].tasks.add_dependency(mine.id, secret.id)
    with pytest.raises(errors.NotFound):
        await t["b"].tasks.create(TaskCreate(project_id=t["project"].id, title="x", blocked_by=[secret.id]))
    assert [x.title for x in (await t["b"].tasks.list(project_id=t["project"].id)).items] == [mine.title]


async def test_create_with_blockers(world):
    t = await team(world)
    b = t["b"]
    first = await new_task(b, t["project"], "First")
    second = await b.tasks.create(TaskCreate(project_id=t["project"].id, title="Second", blocked_by=[first.id]))
    assert second.blocked_by_count == 1
    assert (await b.tasks.get(first.id)).blocks_count == 1


# ---- events and agent runs -----------------------------------------------------------------


async def test_append_and_page_events(world):
    t = await team(world)
    b = t["b"]
    task = await new_task(b, t["project"])
    added = await t["editor"].tasks.add_event(task.id, TaskEventCreate(kind="comment", message="On it."))
    assert added.kind == "comment" and added.message == "On it." and added.actor == t["editor_user"].username
    for i in range(3):
        await b.tasks.add_event(task.id, TaskEventCreate(kind="note", message=f"note {i}"))
    page = await b.tasks.list_events(task.id, limit=2)
    rest = await b.tasks.list_events(task.id, limit=10, cursor=page.next_cursor)
    assert [e.kind for e in page.items + rest.items] == ["created", "comment", "note", "note", "note"]
    assert rest.next_cursor is None


async def test_agent_runs_record_and_update(world):
    t = await team(world)
    b = t["b"]
    task = await new_task(b, t["project"])
    run = await b.tasks.create_agent_run(task.id, AgentRunCreate(agent="worker", input_tokens=120,
                                                                 external_ref="chat:42"))
    assert run.status == "running" and run.total_tokens == 120 and run.finished_at is None
    again = await b.tasks.create_agent_run(task.id, AgentRunCreate(agent="worker", external_ref="chat:42"))
    assert again.id == run.id  # attach: the same external reference is the same run
    done = await b.tasks.update_agent_run(run.id, AgentRunUpdate(status="succeeded", output_tokens=30,
                                                                 summary="Drafted."))
    assert done.status == "succeeded" and done.total_tokens == 150 and done.finished_at is not None
    with pytest.raises(errors.Conflict):
        await b.tasks.update_agent_run(run.id, AgentRunUpdate(status="running"))
    with pytest.raises(errors.NotFound):
        await b.tasks.update_agent_run("01ARZ3NDEKTSV4RRFFQ69G5FAV", AgentRunUpdate(summary="x"))
    with pytest.raises(errors.Forbidden):
        await t["viewer"].tasks.update_agent_run(run.id, AgentRunUpdate(summary="x"))
    detail = await b.tasks.get(task.id)
    assert [r.id for r in detail.agent_runs] == [run.id] and detail.agent_runs[0].summary == "Drafted."
    kinds = [e.kind for e in (await b.tasks.list_events(task.id)).items]
    assert kinds == ["created", "agent_run_recorded", "agent_run_updated"]
