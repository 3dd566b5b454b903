"""The notification producer and what the contract tests cannot see: the rules table,
exactly-one-per-event, muting, rollback, disabled users, the indexes the queries use."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from crewos_tui.backend import errors
from crewos_tui.backend.local import db as dbmod
from crewos_tui.backend.local.events import DomainEvent
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.notifications import rules
from crewos_tui.backend.local.services.notifications.producer import NotificationProducer
from crewos_tui.backend.local.tables import DomainEventRow, NotificationRow, UserRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import (
    AccessRequestCreate,
    AccessRequestDecision,
    NotificationPreferencesUpdate,
    ProjectCreate,
)
from crewos_tui.backend.schemas.projects import FolderUpdateCreate, ProjectRole

from .conftest import fast_settings
from .test_db import make_v1


async def notes(services: Services, user_id: str) -> list[NotificationRow]:
    async with services.ctx.db.read() as s:
        return list(await s.scalars(select(NotificationRow).where(NotificationRow.user_id == user_id)
                                    .order_by(NotificationRow.id)))


async def all_notes(services: Services) -> list[NotificationRow]:
    async with services.ctx.db.read() as s:
        return list(await s.scalars(select(NotificationRow).order_by(NotificationRow.id)))


@pytest.fixture
async def team(services, make_user):
    """An owner with a project, an editor, a viewer, and an outsider."""
    names = {}
    for name in ("owner", "editor", "viewer", "outsider"):
        info, _ = await make_user()
        names[name] = (info, await services.auth.principal_for(info.username))
    owner = names["owner"][1]
    project = await services.projects.create(owner, ProjectCreate(name="Rules"))
    await services.projects.upsert_member(owner, project.id, names["editor"][0].id, ProjectRole.editor)
    await services.projects.upsert_member(owner, project.id, names["viewer"][0].id, ProjectRole.viewer)
    names["project"] = project
    return names


async def new_notes(services: Services, before: int) -> list[NotificationRow]:
    return (await all_notes(services))[before:]


# ---- the table ----------------------------------------------------------------------


def test_every_rule_names_a_known_kind_and_every_kind_has_a_rule():
    assert {r.kind for r in rules.RULES} == set(rules.KINDS)
    assert all(label for label in rules.KINDS.values())
    with pytest.raises(ValueError, match="unknown kind"):
        rules._check((rules.Rule("x.happened", "no.such_kind", rules.data_users("user_id"), "t"),))


# ---- each foundation event that exists: exactly one notification, to the right user -----


async def test_member_added_role_changed_removed(services, team):
    owner, project = team["owner"][1], team["project"]
    viewer = team["viewer"][0]
    editor_notes = await notes(services, team["editor"][0].id)
    assert [n.kind for n in editor_notes] == ["project.member_added"]
    before = len(await all_notes(services))
    await services.projects.upsert_member(owner, project.id, viewer.id, ProjectRole.editor)
    made = await new_notes(services, before)
    assert [(n.user_id, n.kind) for n in made] == [(viewer.id, "project.member_role_changed")]
    assert "viewer to editor" in made[0].body
    await services.projects.remove_member(owner, project.id, viewer.id)
    made = await new_notes(services, before + 1)
    assert [(n.user_id, n.kind) for n in made] == [(viewer.id, "project.member_removed")]
    # Leaving by oneself tells nobody (the actor is the only one named).
    before = len(await all_notes(services))
    await services.projects.remove_member(team["editor"][1], project.id, team["editor"][0].id)
    assert await new_notes(services, before) == []


async def test_archive_tells_every_member_but_the_actor(services, team):
    before = len(await all_notes(services))
    await services.projects.archive(team["owner"][1], team["project"].id)
    made = await new_notes(services, before)
    assert sorted(n.user_id for n in made) == sorted([team["editor"][0].id, team["viewer"][0].id])
    assert {n.kind for n in made} == {"project.archived"}


async def test_access_request_goes_to_owners_and_the_decision_to_the_requester(services, team):
    owner, project = team["owner"][1], team["project"]
    asker = team["outsider"]
    before = len(await all_notes(services))
    req = await services.projects.create_access_request(asker[1], project.id, AccessRequestCreate())
    made = await new_notes(services, before)
    assert [(n.user_id, n.kind) for n in made] == [(team["owner"][0].id, "project.access_requested")]
    assert (made[0].resource_type, made[0].resource_id, made[0].project_id) == ("access_request", req.id, project.id)
    before += 1
    await services.projects.decide_access_request(owner, project.id, req.id, AccessRequestDecision(status="rejected"))
    made = await new_notes(services, before)
    assert [(n.user_id, n.kind) for n in made] == [(asker[0].id, "project.access_rejected")]


async def test_folder_update_goes_to_deciders_and_the_decision_to_the_proposer(services, team):
    project, viewer = team["project"], team["viewer"]
    before = len(await all_notes(services))
    up = await services.projects.propose_folder_update(viewer[1], project.id,
                                                       FolderUpdateCreate(action="create", path="specs"))
    made = await new_notes(services, before)
    kind = "project.folder_update_proposed"
    assert sorted((n.user_id, n.kind) for n in made) == sorted([(team["owner"][0].id, kind),
                                                                (team["editor"][0].id, kind)])
    assert made[0].body.endswith("proposes: create specs.")
    before += 2
    await services.projects.approve_folder_update(team["editor"][1], project.id, up.id)
    made = await new_notes(services, before)
    assert [(n.user_id, n.kind) for n in made] == [(viewer[0].id, "project.folder_update_approved")]


async def test_events_without_a_rule_produce_nothing(services, team):
    before = len(await all_notes(services))
    await services.projects.upload_document(team["owner"][1], team["project"].id, "a.md", b"# a")
    await services.notifications.read_all(team["editor"][1])
    assert await new_notes(services, before) == []


# ---- preferences, users, transactions --------------------------------------------------


async def test_a_muted_kind_and_a_muted_project_are_not_produced(services, team):
    owner, project, viewer = team["owner"][1], team["project"], team["viewer"]
    await services.notifications.update_preferences(
        viewer[1], NotificationPreferencesUpdate(kinds={"project.member_role_changed": False}))
    before = len(await all_notes(services))
    await services.projects.upsert_member(owner, project.id, viewer[0].id, ProjectRole.editor)
    assert await new_notes(services, before) == []
    await services.notifications.update_preferences(
        viewer[1], NotificationPreferencesUpdate(kinds={"project.member_role_changed": True},
                                                 muted_projects=[project.id]))
    await services.projects.upsert_member(owner, project.id, viewer[0].id, ProjectRole.viewer)
    assert await new_notes(services, before) == []
    # Other users are unaffected by one user's preferences.
    await services.projects.archive(owner, project.id)
    assert [n.user_id for n in await new_notes(services, before)] == [team["editor"][0].id]


async def test_disabled_users_and_unknown_ids_are_skipped_without_failing_the_call(services, team):
    producer = NotificationProducer(services.ctx)
    editor = team["editor"][0]
    async with services.ctx.db.transaction() as s:
        (await s.get(UserRow, editor.id)).disabled = True
    ev = DomainEvent(id=services.ctx.ids.new(), kind="project.member_added", actor_id=None, actor="system",
                     auth_method="system", resource_type="project_member", resource_id="x",
                     project_id=team["project"].id, data={"user_id": [editor.id, "01NOSUCHUSER0000000000000"]})
    before = len(await all_notes(services))
    async with services.ctx.db.transaction() as s:
        await producer(s, ev)
    assert await new_notes(services, before) == []


async def test_a_failed_call_leaves_no_notification(services, team):
    owner, project = team["owner"][1], team["project"]
    before = len(await all_notes(services))
    with pytest.raises(errors.Conflict):  # the last owner cannot step down: rolled back
        await services.projects.upsert_member(owner, project.id, team["owner"][0].id, ProjectRole.viewer)
    async with services.ctx.db.transaction() as s:
        await services.ctx.events.emit(s, owner, "project.member_role_changed", "project_member", "x", project.id,
                                       user_id=team["viewer"][0].id, role="editor", old_role="viewer")
        await s.rollback()
    assert await new_notes(services, before) == []


async def test_one_notification_per_user_per_event_even_when_two_rules_match(services, team, monkeypatch):
    twice = (rules.Rule("project.updated", "project.archived", rules.project_roles("editor"), "first {project}"),
             rules.Rule("project.updated", "project.archived", rules.anyone_of(
                 rules.project_roles("editor"), rules.project_roles("viewer")), "second"))
    monkeypatch.setitem(rules.RULES_BY_EVENT, "project.updated", twice)
    from crewos_tui.backend.schemas import ProjectUpdate

    before = len(await all_notes(services))
    await services.projects.update(team["owner"][1], team["project"].id, ProjectUpdate(description="new"))
    made = await new_notes(services, before)
    assert sorted((n.user_id, n.title) for n in made) == sorted(
        [(team["editor"][0].id, "first Rules"), (team["viewer"][0].id, "second")])


async def test_a_template_field_the_event_lacks_reads_as_a_question_mark(services, team):
    producer = NotificationProducer(services.ctx)
    ev = DomainEvent(id=services.ctx.ids.new(), kind="project.member_added", actor_id=None, actor="bot",
                     auth_method="system", resource_type="project_member", resource_id="x",
                     project_id=team["project"].id, data={"user_id": team["outsider"][0].id})
    async with services.ctx.db.transaction() as s:
        await producer(s, ev)
    (n,) = await notes(services, team["outsider"][0].id)
    assert (n.title, n.body) == ("Added to Rules", "bot added you as ?.")


async def test_the_command_line_principal_has_no_inbox(services):
    with pytest.raises(errors.Forbidden, match="belong to a user"):
        await services.notifications.unread_count(Principal.system())
    with pytest.raises(errors.Unauthorized):
        await services.notifications.list(Principal.anonymous())


async def test_reads_are_domain_events_that_listeners_hear(services, team):
    viewer = team["viewer"][1]
    heard = []
    services.ctx.events.subscribe(heard.append)
    (n,) = await notes(services, team["viewer"][0].id)
    await services.notifications.mark_read(viewer, n.id)
    await services.notifications.mark_read(viewer, n.id)  # no change: no event
    await services.notifications.dismiss(viewer, n.id)
    await services.notifications.update_preferences(viewer, NotificationPreferencesUpdate(toasts=False))
    assert [e.kind for e in heard] == ["notification.read", "notification.dismissed",
                                       "notification.preferences_updated"]
    assert all(e.data["user_id"] == viewer.user_id for e in heard)
    async with services.ctx.db.read() as s:
        kinds = set(await s.scalars(select(DomainEventRow.kind).where(DomainEventRow.kind.like("notification.%"))))
    assert kinds == {"notification.read", "notification.dismissed", "notification.preferences_updated"}


# ---- storage ------------------------------------------------------------------------


async def test_an_older_database_gets_the_tables(tmp_path):
    make_v1(tmp_path / "old.db")
    svc = await Services.open(tmp_path / "old.db", settings=fast_settings())
    try:
        assert await svc.ctx.db.schema_version() == dbmod.SCHEMA_VERSION
        async with svc.ctx.db.read() as s:
            assert await s.scalar(select(func.count()).select_from(NotificationRow)) == 0
        old = await svc.auth.principal_for("oldtimer")
        assert (await svc.notifications.unread_count(old)).unread == 0
    finally:
        await svc.close()


@pytest.mark.parametrize(("where", "index"), [
    ("user_id = 'u' AND dismissed_at IS NULL ORDER BY id DESC", "ix_notifications_user"),
    ("user_id = 'u' AND read_at IS NULL AND dismissed_at IS NULL ORDER BY id DESC", "ix_notifications_unread"),
    ("user_id = 'u' AND kind = 'k' AND dismissed_at IS NULL ORDER BY id DESC", "ix_notifications_user_kind"),
    ("user_id = 'u' AND project_id = 'p' AND dismissed_at IS NULL ORDER BY id DESC",
     "ix_notifications_user_project"),
])
async def test_queries_use_their_index(services, where, index):
    con = sqlite3.connect(services.ctx.db.path)
    try:
        plan = " ".join(r[3] for r in con.execute(f"EXPLAIN QUERY PLAN SELECT * FROM notifications WHERE {where}"))
        count = " ".join(r[3] for r in con.execute(
            "EXPLAIN QUERY PLAN SELECT count(*), max(id) FROM notifications "
            "WHERE user_id = 'u' AND read_at IS NULL AND dismissed_at IS NULL"))
    finally:
        con.close()
    assert index in plan and "TEMP B-TREE" not in plan, plan
    assert "COVERING INDEX ix_notifications_unread" in count, count
