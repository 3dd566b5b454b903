"""Notifications, on both backends: all 7 endpoints, produced by real domain events."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import (
    AccessRequestCreate,
    AccessRequestDecision,
    NotificationPreferencesUpdate,
    ProjectCreate,
)
from crewos_tui.backend.schemas.projects import FolderUpdateCreate, ProjectRole

from ..conftest import unique


async def owner_with_project(world):
    owner = await world.user()
    backend = await world.as_(owner)
    project = await backend.projects.create(ProjectCreate(name=unique("Notif ")))
    return owner, backend, project


async def member_of(world, owner_backend, project, role=ProjectRole.viewer):
    user = await world.user()
    await owner_backend.projects.upsert_member(project.id, user.id, role)
    return user, await world.as_(user)


async def test_being_added_to_a_project_notifies_the_member_not_the_actor(world):
    owner, ob, p = await owner_with_project(world)
    _, ub = await member_of(world, ob, p, ProjectRole.editor)
    page = await ub.notifications.list()
    assert len(page.items) == 1 and page.next_cursor is None
    n = page.items[0]
    assert n.kind == "project.member_added" and n.unread and n.read_at is None and n.dismissed_at is None
    assert p.name in n.title and owner.username in n.body and "editor" in n.body
    assert (n.link.resource_type, n.link.resource_id, n.link.project_id) == ("project", p.id, p.id)
    assert n.actor == owner.username
    count = await ub.notifications.unread_count()
    assert (count.unread, count.latest_id) == (1, n.id)
    # The actor is never told about their own action.
    assert (await ob.notifications.list()).items == []
    assert (await ob.notifications.unread_count()).unread == 0


async def test_list_filters_and_pages_newest_first(world):
    _, ob, p1 = await owner_with_project(world)
    p2 = await ob.projects.create(ProjectCreate(name=unique("Other ")))
    user, ub = await member_of(world, ob, p1)
    await ob.projects.upsert_member(p2.id, user.id, ProjectRole.viewer)
    await ob.projects.upsert_member(p1.id, user.id, ProjectRole.editor)  # role changed
    await ob.projects.upsert_member(p2.id, user.id, ProjectRole.editor)
    everything = (await ub.notifications.list()).items
    assert [n.kind for n in everything] == ["project.member_role_changed", "project.member_role_changed",
                                            "project.member_added", "project.member_added"]
    assert [n.id for n in everything] == sorted((n.id for n in everything), reverse=True)

    seen, cursor = [], None
    while True:
        page = await ub.notifications.list(limit=3, cursor=cursor)
        seen += [n.id for n in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [n.id for n in everything]

    added = (await ub.notifications.list(kind="project.member_added")).items
    assert {n.link.project_id for n in added} == {p1.id, p2.id}
    about_p2 = (await ub.notifications.list(project_id=p2.id)).items
    assert len(about_p2) == 2 and all(n.link.project_id == p2.id for n in about_p2)
    await ub.notifications.mark_read(everything[0].id)
    assert [n.id for n in (await ub.notifications.list(unread=False)).items] == [everything[0].id]
    assert [n.id for n in (await ub.notifications.list(unread=True)).items] == [n.id for n in everything[1:]]

    with pytest.raises(errors.Invalid, match="unknown notification kind"):
        await ub.notifications.list(kind="no.such_kind")
    with pytest.raises(errors.Invalid):
        await ub.notifications.list(cursor="not-a-cursor")
    with pytest.raises(errors.Invalid):
        await ub.notifications.list(limit=0)


async def test_mark_read_and_dismiss(world):
    _, ob, p = await owner_with_project(world)
    user, ub = await member_of(world, ob, p)
    await ob.projects.upsert_member(p.id, user.id, ProjectRole.editor)
    newer, older = (await ub.notifications.list()).items
    read = await ub.notifications.mark_read(older.id)
    assert read.read_at is not None and not read.unread
    again = await ub.notifications.mark_read(older.id)
    assert again.read_at == read.read_at  # reading twice keeps the first time
    assert (await ub.notifications.unread_count()).unread == 1

    dismissed = await ub.notifications.dismiss(newer.id)
    assert dismissed.dismissed_at is not None and not dismissed.unread
    count = await ub.notifications.unread_count()
    assert (count.unread, count.latest_id) == (0, None)
    assert [n.id for n in (await ub.notifications.list()).items] == [older.id]  # dismissed leaves the list
    assert (await ub.notifications.dismiss(newer.id)).dismissed_at == dismissed.dismissed_at

    for call in (ub.notifications.mark_read, ub.notifications.dismiss):
        with pytest.raises(errors.NotFound):
            await call("01ARZ3NDEKTSV4RRFFQ69G5FAV")


async def test_a_user_only_ever_sees_their_own(world):
    _, ob, p = await owner_with_project(world)
    _, ub = await member_of(world, ob, p)
    mine = (await ub.notifications.list()).items[0]
    for other in (await world.as_(await world.user()), await world.as_(await world.user(role="admin"))):
        assert (await other.notifications.list()).items == []
        assert (await other.notifications.unread_count()).unread == 0
        with pytest.raises(errors.NotFound):
            await other.notifications.mark_read(mine.id)
        with pytest.raises(errors.NotFound):
            await other.notifications.dismiss(mine.id)
        assert (await other.notifications.read_all(up_to_id=mine.id)).marked == 0
    assert (await ub.notifications.unread_count()).unread == 1  # nobody else could touch it
    with pytest.raises(errors.Unauthorized):
        await world.anonymous().notifications.unread_count()


async def test_read_all_marks_only_up_to_the_bound(world):
    _, ob, p = await owner_with_project(world)
    user, ub = await member_of(world, ob, p)
    for role in (ProjectRole.editor, ProjectRole.viewer, ProjectRole.editor):
        await ob.projects.upsert_member(p.id, user.id, role)
    n4, n3, n2, _ = (await ub.notifications.list()).items  # newest first

    result = await ub.notifications.read_all(up_to_id=n2.id)
    assert result.marked == 2 and result.up_to_id == n2.id
    assert [n.id for n in (await ub.notifications.list(unread=True)).items] == [n4.id, n3.id]

    result = await ub.notifications.read_all(up_to=n3.created_at)
    assert result.marked == 1
    assert [n.id for n in (await ub.notifications.list(unread=True)).items] == [n4.id]

    result = await ub.notifications.read_all()
    assert result.marked == 1 and (await ub.notifications.unread_count()).unread == 0
    assert (await ub.notifications.read_all()).marked == 0


@pytest.mark.parametrize("bound", [
    {"up_to_id": "not-an-id"},
    {"up_to_id": ""},
    {"up_to": "yesterday"},
    {"up_to": datetime(2026, 3, 2, 9, 0)},  # no time zone: ambiguous
    {"up_to_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "up_to": "2026-03-02T09:00:00Z"},
], ids=["malformed-id", "empty-id", "not-a-time", "naive-time", "both"])
async def test_read_all_with_a_bad_bound_is_422_and_marks_nothing(world, bound):
    _, ob, p = await owner_with_project(world)
    _, ub = await member_of(world, ob, p)
    with pytest.raises(errors.Invalid):
        await ub.notifications.read_all(**bound)
    assert (await ub.notifications.unread_count()).unread == 1


async def test_preferences_defaults_update_and_muting(world):
    _, ob, p = await owner_with_project(world)
    user, ub = await member_of(world, ob, p)
    prefs = await ub.notifications.get_preferences()
    kinds = {k.kind: k for k in prefs.kinds}
    assert "project.member_added" in kinds and all(k.in_app and k.label for k in prefs.kinds)
    assert (prefs.muted_projects, prefs.toasts, prefs.updated_at) == ([], True, None)

    changed = await ub.notifications.update_preferences(
        NotificationPreferencesUpdate(kinds={"project.member_role_changed": False}, toasts=False))
    assert {k.kind: k.in_app for k in changed.kinds}["project.member_role_changed"] is False
    assert changed.toasts is False and changed.updated_at is not None
    await ob.projects.upsert_member(p.id, user.id, ProjectRole.editor)  # a muted kind: nothing produced
    assert (await ub.notifications.unread_count()).unread == 1

    p2 = await ob.projects.create(ProjectCreate(name=unique("Muted ")))
    with pytest.raises(errors.Invalid, match="cannot mute"):  # not one of the user's projects yet
        await ub.notifications.update_preferences(NotificationPreferencesUpdate(muted_projects=[p2.id]))
    await ob.projects.upsert_member(p2.id, user.id, ProjectRole.viewer)
    assert (await ub.notifications.unread_count()).unread == 2
    muted = await ub.notifications.update_preferences(NotificationPreferencesUpdate(muted_projects=[p2.id]))
    assert muted.muted_projects == [p2.id] and muted.toasts is False  # other settings kept
    await ob.projects.remove_member(p2.id, user.id)  # about a muted project: nothing produced
    assert (await ub.notifications.unread_count()).unread == 2

    back = await ub.notifications.update_preferences(
        NotificationPreferencesUpdate(kinds={"project.member_role_changed": True}, muted_projects=[]))
    assert all(k.in_app for k in back.kinds) and back.muted_projects == []
    await ob.projects.upsert_member(p.id, user.id, ProjectRole.viewer)
    assert (await ub.notifications.unread_count()).unread == 3
    assert (await ub.notifications.get_preferences()) == back


async def test_preferences_refuse_unknown_kinds(world):
    ub = await world.as_(await world.user())
    with pytest.raises(errors.Invalid, match=r"no\.such_kind"):
        await ub.notifications.update_preferences(
            NotificationPreferencesUpdate(kinds={"no.such_kind": False, "project.member_added": False}))
    # Nothing half-applied.
    assert all(k.in_app for k in (await ub.notifications.get_preferences()).kinds)


async def test_access_requests_notify_owners_then_the_requester(world):
    _, ob, p = await owner_with_project(world)
    _, cb = await member_of(world, ob, p, ProjectRole.owner)
    _, eb = await member_of(world, ob, p, ProjectRole.editor)
    asker = await world.user()
    ab = await world.as_(asker)
    req = await ab.projects.create_access_request(p.id, AccessRequestCreate(role="editor", message="hi"))
    for b in (ob, cb):
        n = (await b.notifications.list(kind="project.access_requested")).items
        assert len(n) == 1 and asker.username in n[0].title
        assert (n[0].link.resource_type, n[0].link.resource_id) == ("access_request", req.id)
    assert (await eb.notifications.list(kind="project.access_requested")).items == []  # editors do not decide
    assert (await ab.notifications.list()).items == []

    await ob.projects.decide_access_request(p.id, req.id, AccessRequestDecision(status="approved"))
    kinds = sorted(n.kind for n in (await ab.notifications.list()).items)
    assert kinds == ["project.access_approved", "project.member_added"]


async def test_folder_updates_notify_deciders_then_the_proposer(world):
    _, ob, p = await owner_with_project(world)
    editor, eb = await member_of(world, ob, p, ProjectRole.editor)
    viewer, vb = await member_of(world, ob, p, ProjectRole.viewer)
    # Proposals come from agents and the planner (no endpoint): set up through the service layer.
    update = await world.services.projects.propose_folder_update(
        await world.services.auth.principal_for(viewer.username), p.id,
        FolderUpdateCreate(action="rename", path="docs", new_path="documents", reason="tidy"))
    for b in (ob, eb):
        n = (await b.notifications.list(kind="project.folder_update_proposed")).items
        assert len(n) == 1 and "docs → documents" in n[0].body and n[0].link.resource_id == update.id
    assert (await vb.notifications.list(kind="project.folder_update_proposed")).items == []
    await eb.projects.reject_folder_update(p.id, update.id, comment="no")
    n = (await vb.notifications.list(kind="project.folder_update_rejected")).items
    assert len(n) == 1 and editor.username in n[0].body


async def test_unread_count_of_many_is_exact(world):
    _, ob, p = await owner_with_project(world)
    user, ub = await member_of(world, ob, p)
    for i in range(6):
        await ob.projects.upsert_member(p.id, user.id, ProjectRole.editor if i % 2 == 0 else ProjectRole.viewer)
    items = (await ub.notifications.list()).items
    assert (await ub.notifications.unread_count()).unread == len(items) == 7
    assert all(abs(n.created_at - items[0].created_at) < timedelta(minutes=5) for n in items)
