"""Projects and collaboration, on both backends."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import AccessRequestCreate, AccessRequestDecision, ProjectCreate, ProjectUpdate
from crewos_tui.backend.schemas.projects import FolderUpdateCreate, ProjectRole

from ..conftest import unique


async def owner_and_project(world, template: str = "blank", team: str = "default"):
    owner = await world.user(team=team)
    backend = await world.as_(owner)
    project = await backend.projects.create(ProjectCreate(name=unique("Proj "), description="d", template=template))
    return owner, backend, project


async def test_create_get_list(world):
    owner, b, p = await owner_and_project(world, template="software")
    assert p.my_role == "owner" and p.owner_id == owner.id and p.status == "active"
    assert p.member_count == 1 and p.template == "software"
    got = await b.projects.get(p.id)
    assert got.name == p.name
    assert p.id in [x.id for x in (await b.projects.list()).items]
    assert [x.id for x in (await b.projects.list(q=p.name.lower())).items] == [p.id]


async def test_duplicate_name_in_a_team_conflicts_case_insensitively(world):
    _, b, p = await owner_and_project(world)
    with pytest.raises(errors.Conflict, match="already exists"):
        await b.projects.create(ProjectCreate(name=p.name.upper()))
    # Nothing half-written: still exactly one project of that name.
    assert len((await b.projects.list(q=p.name)).items) == 1


async def test_a_non_member_does_not_see_the_project(world):
    _, _, p = await owner_and_project(world)
    stranger = await world.as_(await world.user())
    with pytest.raises(errors.NotFound):
        await stranger.projects.get(p.id)
    with pytest.raises(errors.NotFound):
        await stranger.projects.list_members(p.id)
    assert p.id not in [x.id for x in (await stranger.projects.list()).items]
    admin = await world.as_(await world.user(role="admin"))
    assert (await admin.projects.get(p.id)).my_role is None


async def test_viewers_cannot_create_projects(world):
    viewer = await world.as_(await world.user(role="viewer"))
    with pytest.raises(errors.Forbidden):
        await viewer.projects.create(ProjectCreate(name=unique("v")))


async def test_update_archive_delete(world):
    _owner, b, p = await owner_and_project(world)
    updated = await b.projects.update(p.id, ProjectUpdate(description="new words"))
    assert updated.description == "new words"
    with pytest.raises(errors.Invalid):
        await b.projects.update(p.id, ProjectUpdate())
    archived = await b.projects.archive(p.id)
    assert archived.status == "archived" and archived.archived_at is not None
    with pytest.raises(errors.Conflict, match="archived"):
        await b.projects.update(p.id, ProjectUpdate(name="x"))
    with pytest.raises(errors.Conflict):
        await b.projects.archive(p.id)
    assert [x.id for x in (await b.projects.list(status="archived")).items] == [p.id]
    deleted = await b.projects.delete(p.id)
    assert deleted.id == p.id and deleted.deleted
    with pytest.raises(errors.NotFound):
        await b.projects.get(p.id)


async def test_member_roles_gate_actions(world):
    _owner, b, p = await owner_and_project(world)
    viewer_user = await world.user()
    await b.projects.upsert_member(p.id, viewer_user.id, ProjectRole.viewer)
    viewer = await world.as_(viewer_user)
    assert (await viewer.projects.get(p.id)).my_role == "viewer"
    with pytest.raises(errors.Forbidden, match="editor"):
        await viewer.projects.update(p.id, ProjectUpdate(description="x"))
    with pytest.raises(errors.Forbidden, match="owner"):
        await viewer.projects.archive(p.id)
    with pytest.raises(errors.Forbidden):
        await viewer.projects.delete(p.id)


async def test_members_add_change_remove_and_last_owner_is_kept(world):
    # A team of its own: the served database is shared by every contract test.
    team = unique("team")
    owner, b, p = await owner_and_project(world, team=team)
    other = await world.user(team=team)
    m = await b.projects.upsert_member(p.id, other.id, ProjectRole.editor)
    assert (m.user_id, m.role) == (other.id, "editor")
    m = await b.projects.upsert_member(p.id, other.id, ProjectRole.viewer)
    assert m.role == "viewer"
    members = {x.user_id: x.role for x in (await b.projects.list_members(p.id)).items}
    assert members == {owner.id: "owner", other.id: "viewer"}
    team = {u.id: u for u in (await b.projects.team_users(p.id)).items}
    assert team[other.id].is_member and team[other.id].project_role == "viewer"
    with pytest.raises(errors.Conflict, match="last owner"):
        await b.projects.upsert_member(p.id, owner.id, ProjectRole.editor)
    with pytest.raises(errors.Conflict, match="last owner"):
        await b.projects.remove_member(p.id, owner.id)
    await b.projects.remove_member(p.id, other.id)
    assert [x.user_id for x in (await b.projects.list_members(p.id)).items] == [owner.id]
    with pytest.raises(errors.NotFound):
        await b.projects.upsert_member(p.id, "01NOSUCHUSER0000000000000", ProjectRole.viewer)


async def test_members_come_from_the_projects_team(world):
    _, b, p = await owner_and_project(world)
    outsider = await world.user(team="elsewhere")
    with pytest.raises(errors.Forbidden, match="team"):
        await b.projects.upsert_member(p.id, outsider.id, ProjectRole.viewer)
    assert outsider.id not in [u.id for u in (await b.projects.team_users(p.id)).items]


async def test_access_request_approve_makes_a_member(world):
    _owner, b, p = await owner_and_project(world)
    asker_user = await world.user()
    asker = await world.as_(asker_user)
    req = await asker.projects.create_access_request(p.id, AccessRequestCreate(message="please", role="editor"))
    assert req.status == "pending" and req.username == asker_user.username
    with pytest.raises(errors.Conflict, match="pending"):
        await asker.projects.create_access_request(p.id, AccessRequestCreate())
    # The asker sees their own request; the owner sees it in the queue.
    assert [r.id for r in (await asker.projects.list_access_requests(p.id)).items] == [req.id]
    pending = await b.projects.list_access_requests(p.id, status="pending")
    assert [r.id for r in pending.items] == [req.id]
    with pytest.raises(errors.NotFound):  # not a member yet: the project stays invisible
        await asker.projects.decide_access_request(p.id, req.id, AccessRequestDecision(status="approved"))
    decided = await b.projects.decide_access_request(
        p.id, req.id, AccessRequestDecision(status="approved", role="viewer", comment="read first"))
    assert decided.status == "approved" and decided.role == "viewer" and decided.comment == "read first"
    assert (await asker.projects.get(p.id)).my_role == "viewer"
    with pytest.raises(errors.Conflict, match="already approved"):
        await b.projects.decide_access_request(p.id, req.id, AccessRequestDecision(status="rejected"))
    with pytest.raises(errors.Conflict, match="already a member"):
        await asker.projects.create_access_request(p.id, AccessRequestCreate())


async def test_access_request_reject_and_other_teams_cannot_ask(world):
    _, b, p = await owner_and_project(world)
    asker = await world.as_(await world.user())
    req = await asker.projects.create_access_request(p.id, AccessRequestCreate())
    rejected = await b.projects.decide_access_request(p.id, req.id, AccessRequestDecision(status="rejected"))
    assert rejected.status == "rejected"
    with pytest.raises(errors.NotFound):
        await asker.projects.get(p.id)
    outsider = await world.as_(await world.user(team="elsewhere"))
    with pytest.raises(errors.NotFound):
        await outsider.projects.create_access_request(p.id, AccessRequestCreate())


async def test_scaffold_and_folders_come_from_the_template(world):
    _, b, p = await owner_and_project(world, template="research")
    items = (await b.projects.list_scaffold_items(p.id)).items
    assert [i.position for i in items] == sorted(i.position for i in items)
    assert {"folder", "document", "checklist"} <= {i.kind for i in items}
    paths = [f.path for f in (await b.projects.list_folders(p.id)).items]
    assert paths == sorted(paths) and {"docs", "sources", "notes", "drafts"} <= set(paths)


async def propose(world, owner, project_id, **kw):
    principal = await world.services.auth.principal_for(owner.username)
    return await world.services.projects.propose_folder_update(principal, project_id, FolderUpdateCreate(**kw))


async def test_folder_updates_approve_applies_and_reject_does_not(world):
    owner, b, p = await owner_and_project(world)
    create = await propose(world, owner, p.id, action="create", path="docs/runbooks/oncall", reason="r")
    rename = await propose(world, owner, p.id, action="rename", path="docs", new_path="handbook")
    pending = [u.id for u in (await b.projects.list_folder_updates(p.id, status="pending")).items]
    assert set(pending) == {create.id, rename.id}
    approved = await b.projects.approve_folder_update(p.id, create.id, comment="ok")
    assert approved.status == "approved" and approved.decided_by
    assert {"docs/runbooks", "docs/runbooks/oncall"} <= {f.path for f in (await b.projects.list_folders(p.id)).items}
    await b.projects.approve_folder_update(p.id, rename.id)
    paths = {f.path for f in (await b.projects.list_folders(p.id)).items}
    assert "handbook/runbooks/oncall" in paths and "docs" not in paths
    with pytest.raises(errors.Conflict, match="already approved"):
        await b.projects.reject_folder_update(p.id, rename.id)
    delete = await propose(world, owner, p.id, action="delete", path="handbook")
    rejected = await b.projects.reject_folder_update(p.id, delete.id, comment="keep it")
    assert rejected.status == "rejected"
    assert "handbook" in {f.path for f in (await b.projects.list_folders(p.id)).items}


async def test_a_folder_update_that_no_longer_applies_conflicts_and_stays_pending(world):
    owner, b, p = await owner_and_project(world)
    gone = await propose(world, owner, p.id, action="delete", path="no/such/folder")
    with pytest.raises(errors.Conflict, match="does not exist"):
        await b.projects.approve_folder_update(p.id, gone.id)
    still = [u for u in (await b.projects.list_folder_updates(p.id)).items if u.id == gone.id]
    assert still[0].status == "pending"


async def test_documents_upload_list_reingest(world):
    _, b, p = await owner_and_project(world)
    raw = b"# Notes\r\nline two\r\n"
    doc = await b.projects.upload_document(p.id, "notes.md", raw, folder_path="docs")
    assert (doc.filename, doc.folder_path, doc.content_type, doc.size) == (
        "notes.md", "docs", "text/markdown", len(raw))
    assert len(doc.content_hash) == 64 and doc.text_chars == len("# Notes\nline two\n")
    assert [d.id for d in (await b.projects.list_documents(p.id)).items] == [doc.id]
    again = await b.projects.reingest_document(p.id, doc.id)
    assert again.ingest_count == 2 and again.content_hash == doc.content_hash
    assert (await b.projects.get(p.id)).document_count == 1


async def test_bad_uploads_are_refused_and_nothing_is_written(world):
    _, b, p = await owner_and_project(world)
    with pytest.raises(errors.UnsupportedMedia):
        await b.projects.upload_document(p.id, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(errors.UnsupportedMedia):
        await b.projects.upload_document(p.id, "data.txt", b"abc\x00def")
    with pytest.raises(errors.Invalid, match="folder"):
        await b.projects.upload_document(p.id, "a.txt", b"hello", folder_path="nowhere")
    with pytest.raises(errors.PayloadTooLarge):
        await b.projects.upload_document(p.id, "big.txt", b"a" * (5 * 1024 * 1024 + 1))
    with pytest.raises(errors.Invalid, match="empty"):
        await b.projects.upload_document(p.id, "empty.txt", b"")
    assert (await b.projects.list_documents(p.id)).items == []
    with pytest.raises(errors.NotFound):
        await b.projects.reingest_document(p.id, "01NOSUCHDOC00000000000000")


async def test_project_lists_page_with_cursors(world):
    user = await world.user()
    b = await world.as_(user)
    made = [(await b.projects.create(ProjectCreate(name=unique("page ")))).id for _ in range(7)]
    seen, cursor = [], None
    while True:
        page = await b.projects.list(limit=3, cursor=cursor)
        assert len(page.items) <= 3
        seen += [p.id for p in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == list(reversed(made))  # newest first, no gaps, no repeats
    with pytest.raises(errors.Invalid, match="cursor"):
        await b.projects.list(cursor="not-a-cursor")
    with pytest.raises(errors.Invalid, match="limit"):
        await b.projects.list(limit=0)


async def test_system_principal_cannot_create_projects_without_a_user(world):
    with pytest.raises(errors.Forbidden):
        await world.services.projects.create(Principal.system(), ProjectCreate(name="x"))
