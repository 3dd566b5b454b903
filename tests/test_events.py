"""Domain events: recorded in the same transaction; listeners hear only commits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.local.tables import DomainEventRow
from crewos_tui.backend.schemas import AccessRequestCreate, AccessRequestDecision, ProjectCreate


async def test_state_changes_record_events_with_actor_and_project(services, make_user):
    owner, _ = await make_user()
    asker, _ = await make_user()
    me = await services.auth.principal_for(owner.username)
    them = await services.auth.principal_for(asker.username)
    heard = []
    services.ctx.events.subscribe(heard.append)
    p = await services.projects.create(me, ProjectCreate(name="Evented"))
    req = await services.projects.create_access_request(them, p.id, AccessRequestCreate())
    await services.projects.decide_access_request(me, p.id, req.id, AccessRequestDecision(status="approved"))
    async with services.ctx.db.read() as s:
        rows = (await s.scalars(select(DomainEventRow).where(DomainEventRow.project_id == p.id)
                                .order_by(DomainEventRow.id))).all()
    kinds = [r.kind for r in rows]
    assert kinds == ["project.created", "project.access_requested", "project.member_added",
                     "project.access_approved"]
    assert rows[0].actor == owner.username and rows[1].actor == asker.username
    assert rows[2].data["user_id"] == asker.id
    assert [e.kind for e in heard] == kinds  # after-commit listeners saw each, in order


async def test_listeners_hear_nothing_from_a_failed_call(services, make_user):
    owner, _ = await make_user()
    me = await services.auth.principal_for(owner.username)
    await services.projects.create(me, ProjectCreate(name="Once"))
    heard = []
    services.ctx.events.subscribe(heard.append)
    with pytest.raises(errors.Conflict):
        await services.projects.create(me, ProjectCreate(name="Once"))
    assert heard == []


async def test_a_broken_listener_does_not_break_the_call(services, make_user):
    owner, _ = await make_user()
    me = await services.auth.principal_for(owner.username)

    def broken(event):
        raise ValueError("listener bug")

    unsubscribe = services.ctx.events.subscribe(broken)
    project = await services.projects.create(me, ProjectCreate(name="Still fine"))
    assert project.name == "Still fine"
    unsubscribe()
