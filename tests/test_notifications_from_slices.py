"""The producer on the other slices' real events: a task assigned to you or moved to
review, an agent job of yours that finished or failed, a review requested from you
or decided on your submission, a chat session shared with you. Each produces
exactly one notification, for the right user, never for the actor."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crewos_tui.backend.local.events import DomainEvent
from crewos_tui.backend.local.services.notifications.producer import NotificationProducer
from crewos_tui.backend.local.tables import NotificationRow
from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.projects import ProjectRole


async def made_since(services, before: int) -> list[NotificationRow]:
    async with services.ctx.db.read() as s:
        return list(await s.scalars(select(NotificationRow).order_by(NotificationRow.id)))[before:]


async def count(services) -> int:
    return len(await made_since(services, 0))


@pytest.fixture
async def crew(services, make_user):
    people = {}
    for name in ("lead", "dev", "reviewer"):
        info, _ = await make_user()
        people[name] = (info, await services.auth.principal_for(info.username))
    lead = people["lead"][1]
    project = await services.projects.create(lead, ProjectCreate(name="Crew"))
    for name in ("dev", "reviewer"):
        await services.projects.upsert_member(lead, project.id, people[name][0].id, ProjectRole.editor)
    people["project"] = project
    return people


async def test_a_task_assigned_to_you_and_moved_to_review(services, crew):
    from crewos_tui.backend.schemas.tasks import TaskCreate, TaskUpdate

    lead, dev = crew["lead"], crew["dev"]
    before = await count(services)
    task = await services.tasks.create(lead[1], TaskCreate(project_id=crew["project"].id, title="Write the spec",
                                                           assignee_id=dev[0].id))
    made = await made_since(services, before)
    assert [(n.user_id, n.kind, n.resource_type, n.resource_id) for n in made] == [
        (dev[0].id, "task.assigned", "task", task.id)]
    assert made[0].body == f"{lead[0].username} assigned you “Write the spec”."

    before += 1
    await services.tasks.update(lead[1], task.id, TaskUpdate(assignee_id=crew["reviewer"][0].id))
    assert [(n.user_id, n.kind) for n in await made_since(services, before)] == [
        (crew["reviewer"][0].id, "task.assigned")]

    before += 1
    await services.tasks.update(lead[1], task.id, TaskUpdate(assignee_id=dev[0].id))
    before += 1
    await services.tasks.set_status(dev[1], task.id, "in_progress")
    assert await made_since(services, before) == []  # other moves tell nobody
    await services.tasks.set_status(dev[1], task.id, "review")
    made = await made_since(services, before)
    assert [(n.user_id, n.kind) for n in made] == [(lead[0].id, "task.review")]  # not dev, who moved it


async def test_your_agent_job_finished_or_failed_links_to_its_task(services, crew):
    from crewos_tui.backend.local.jobs import RUNNER

    producer = NotificationProducer(services.ctx)
    dev = crew["dev"][0]
    before = await count(services)
    for kind in ("agent_job.succeeded", "agent_job.failed", "agent_job.progress"):
        ev = DomainEvent(id=services.ctx.ids.new(), kind=kind, actor_id=RUNNER.user_id, actor=RUNNER.username,
                         auth_method="system", resource_type="agent_job", resource_id="J1",
                         project_id=crew["project"].id,
                         data={"user_id": dev.id, "task_id": "T1", "job_kind": "task_run", "message": "boom"})
        async with services.ctx.db.transaction() as s:
            await producer(s, ev)
    made = await made_since(services, before)
    assert [(n.user_id, n.kind, n.resource_type, n.resource_id) for n in made] == [
        (dev.id, "job.finished", "task", "T1"), (dev.id, "job.failed", "task", "T1")]
    assert made[1].body == "Your task_run job failed: boom"


async def test_a_review_requested_from_you_and_the_decision_on_your_submission(services, crew):
    from crewos_tui.backend.schemas.review import ReviewItemCreate

    dev, reviewer = crew["dev"], crew["reviewer"]
    before = await count(services)
    item = await services.review.submit(dev[1], ReviewItemCreate(
        title="Release notes", project_id=crew["project"].id, requested_reviewer_ids=[reviewer[0].id, dev[0].id]))
    made = await made_since(services, before)
    assert [(n.user_id, n.kind, n.resource_id) for n in made] == [(reviewer[0].id, "review.requested", item.id)]

    before += 1
    await services.review.reject(reviewer[1], item.id, "needs dates")
    made = await made_since(services, before)
    assert [(n.user_id, n.kind) for n in made] == [(dev[0].id, "review.decided")]
    assert (made[0].title, made[0].body) == (
        "Your submission was rejected", f"{reviewer[0].username} rejected “Release notes”: needs dates")


async def test_a_chat_session_shared_with_you(services, crew):
    from crewos_tui.backend.schemas.sessions import ChatSessionCreate, SessionShareCreate

    lead, dev = crew["lead"], crew["dev"]
    session = await services.sessions.create(lead[1], ChatSessionCreate(title="Planning",
                                                                        project_id=crew["project"].id))
    before = await count(services)
    await services.sessions.create_share(lead[1], session.id, SessionShareCreate(user_id=dev[0].id))
    made = await made_since(services, before)
    assert [(n.user_id, n.kind, n.resource_type, n.resource_id) for n in made] == [
        (dev[0].id, "session.shared", "chat_session", session.id)]
    assert made[0].title == f"{lead[0].username} shared a chat session with you"


async def test_an_at_mention_in_a_session_shared_with_you(services, crew):
    """``@name`` tells the named reader of a shared session; someone the session was not
    shared with (or shared but not accepted) hears nothing, and an e-mail address is no mention."""
    from crewos_tui.backend.schemas.sessions import ChatSessionCreate, SessionShareCreate

    lead, dev, reviewer = crew["lead"], crew["dev"], crew["reviewer"]
    session = await services.sessions.create(lead[1], ChatSessionCreate(title="Planning",
                                                                        project_id=crew["project"].id))
    share = await services.sessions.create_share(lead[1], session.id, SessionShareCreate(user_id=dev[0].id))
    await services.sessions.create_share(lead[1], session.id, SessionShareCreate(user_id=reviewer[0].id))
    await services.sessions.accept_share(dev[1], session.id, share.id)
    before = await count(services)
    text = f"@{dev[0].username}, @{reviewer[0].username} and mail x@{lead[0].username}.org: what is waiting?"
    await services.chat.send(lead[1], text, session_id=session.id)
    made = [n for n in await made_since(services, before) if n.kind == "chat.mention"]
    assert [(n.user_id, n.resource_type, n.resource_id) for n in made] == [(dev[0].id, "chat_session", session.id)]
    assert made[0].title == f"{lead[0].username} mentioned you in “Planning”"
    assert made[0].body == text


async def test_no_mention_reaches_a_reader_who_left_the_project(services, crew):
    """A reader of a project's session who is no longer in the project is not told what is said in it."""
    from crewos_tui.backend.schemas.sessions import ChatSessionCreate, SessionShareCreate

    lead, dev = crew["lead"], crew["dev"]
    session = await services.sessions.create(lead[1], ChatSessionCreate(title="Planning",
                                                                        project_id=crew["project"].id))
    share = await services.sessions.create_share(lead[1], session.id, SessionShareCreate(user_id=dev[0].id))
    await services.sessions.accept_share(dev[1], session.id, share.id)
    await services.projects.remove_member(lead[1], crew["project"].id, dev[0].id)
    before = await count(services)
    await services.chat.send(lead[1], f"@{dev[0].username}: the launch date is secret", session_id=session.id)
    assert [n for n in await made_since(services, before) if n.kind == "chat.mention"] == []
