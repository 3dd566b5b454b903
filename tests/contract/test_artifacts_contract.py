"""Generated artifacts on both backends: a project update becomes an HTML artifact;
download, editable source, revisions (old ones kept) and layout cleanup; access
follows the artifact's project."""

from __future__ import annotations

from typing import Any

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.local.services.artifacts import create_artifact
from crewos_tui.backend.schemas import (
    AgentJobCreate,
    ArtifactRevisionCreate,
    LayoutCleanupRequest,
    ProjectCreate,
)
from crewos_tui.backend.schemas.projects import ProjectRole

from ..conftest import unique
from .knowledge_support import TEAM, run_jobs_until_done

MESSY = "<html><body><div><h1>Weekly   update</h1><p>Done: <b>3</b> tasks<p></p><span></span></div></body></html>"


async def make_artifact(world: Any, owner: Any, project_id: str | None, content: str | bytes,
                        content_type: str = "text/html", filename: str = "page.html") -> str:
    """An artifact as an agent would leave it (setup through the shared database)."""
    principal = await world.services.auth.principal_for(owner.username)
    async with world.services.ctx.db.transaction() as s:
        row = await create_artifact(world.services.ctx, s, principal, filename=filename, content=content,
                                    content_type=content_type, project_id=project_id, kind="report")
        return row.reference_token


async def team(world: Any) -> tuple[Any, Any, Any, Any, str]:
    owner, viewer = await world.user(team=TEAM), await world.user(team=TEAM)
    b = await world.as_(owner)
    project = await b.projects.create(ProjectCreate(name=unique("Artifacts ")))
    await b.projects.upsert_member(project.id, viewer.id, ProjectRole.viewer)
    return owner, b, viewer, await world.as_(viewer), project.id


async def test_a_project_update_job_leaves_an_html_artifact(world):
    _owner, b, _viewer, vb, pid = await team(world)
    job = await b.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=pid))
    done = await run_jobs_until_done(world, job.id)
    assert done.status == "succeeded", done.error
    token = done.result["artifact_token"]
    assert len(token) >= 32 and done.result["artifact_filename"].endswith(".html")
    assert (await b.agent_jobs.get(job.id)).result["artifact_token"] == token
    page = await vb.artifacts.download(token)  # project viewers read it
    assert page.content_type == "text/html" and page.revision == 1 and page.filename.startswith("project-update-")
    text = page.content.decode()
    assert text.startswith("<!DOCTYPE html>") and "<h1>Project update:" in text
    src = await vb.artifacts.source(token)
    assert src.kind == "project_update" and src.project_id == pid and not src.editable
    assert src.source == text and [r.revision for r in src.revisions] == [1]
    assert (await b.artifacts.source(token)).editable


async def test_revisions_keep_the_old_source(world):
    owner, b, _viewer, vb, pid = await team(world)
    token = await make_artifact(world, owner, pid, "<p>first</p>\n")
    saved = await b.artifacts.save_revision(token, ArtifactRevisionCreate(source="<p>second</p>\n", note="reword",
                                                                          base_revision=1))
    assert saved.revision == 2 and saved.current_revision == 2 and saved.source == "<p>second</p>\n"
    assert [(r.revision, r.note) for r in saved.revisions] == [(2, "reword"), (1, "generated")]
    assert (await b.artifacts.download(token, revision=1)).content == b"<p>first</p>\n"
    assert (await b.artifacts.download(token)).content == b"<p>second</p>\n"
    assert (await b.artifacts.source(token, revision=1)).source == "<p>first</p>\n"
    with pytest.raises(errors.Conflict, match="revision 2"):
        await b.artifacts.save_revision(token, ArtifactRevisionCreate(source="<p>x</p>", base_revision=1))
    with pytest.raises(errors.Conflict, match="unchanged"):
        await b.artifacts.save_revision(token, ArtifactRevisionCreate(source="<p>second</p>\n"))
    with pytest.raises(errors.Forbidden):
        await vb.artifacts.save_revision(token, ArtifactRevisionCreate(source="<p>viewer</p>"))
    with pytest.raises(errors.NotFound):
        await b.artifacts.download(token, revision=7)


async def test_layout_cleanup_is_a_tidy_new_revision(world):
    owner, b, _viewer, vb, pid = await team(world)
    token = await make_artifact(world, owner, pid, MESSY)
    res = await b.artifacts.layout_cleanup(token, LayoutCleanupRequest(note="tidy"))
    assert res.changed and res.artifact.revision == 2
    assert any("empty" in c for c in res.changes) and any("indentation" in c for c in res.changes)
    tidy = res.artifact.source
    assert "<h1>Weekly update</h1>" in tidy and "<span>" not in tidy and "<p></p>" not in tidy
    assert "\n      <h1>" in tidy  # html > body > div > h1, two spaces a level
    assert res.artifact.revisions[0].note.startswith("tidy: ")
    again = await b.artifacts.layout_cleanup(token)
    assert not again.changed and again.artifact.revision == 2  # already tidy: no new revision
    with pytest.raises(errors.Forbidden):
        await vb.artifacts.layout_cleanup(token)
    md = await make_artifact(world, owner, pid, "# Title\ntext  \n\n\n* item\n", "text/markdown", "notes.md")
    assert (await b.artifacts.layout_cleanup(md)).artifact.source == "# Title\n\ntext\n\n- item\n"
    plain = await make_artifact(world, owner, pid, "a,b\n", "text/csv", "data.csv")
    with pytest.raises(errors.UnsupportedMedia):
        await b.artifacts.layout_cleanup(plain)


async def test_binary_artifacts_download_but_have_no_source(world):
    owner, b, _viewer, _vb, pid = await team(world)
    token = await make_artifact(world, owner, pid, b"\x89PNG\r\n\x1a\n\x00", "image/png", "chart.png")
    got = await b.artifacts.download(token)
    assert got.content == b"\x89PNG\r\n\x1a\n\x00" and got.content_type == "image/png" and got.filename == "chart.png"
    with pytest.raises(errors.UnsupportedMedia):
        await b.artifacts.source(token)


async def test_access_follows_the_project(world):
    owner, b, _viewer, _vb, pid = await team(world)
    token = await make_artifact(world, owner, pid, "<p>x</p>")
    stranger = await world.as_(await world.user(team=TEAM))
    for call in (stranger.artifacts.download(token), stranger.artifacts.source(token),
                 stranger.artifacts.save_revision(token, ArtifactRevisionCreate(source="y")),
                 stranger.artifacts.layout_cleanup(token), b.artifacts.download("not-a-token")):
        with pytest.raises(errors.NotFound):
            await call
    admin = await world.as_(await world.user(role="admin", team=TEAM))
    assert (await admin.artifacts.source(token)).editable
    mine = await make_artifact(world, owner, None, "<p>private</p>")  # no project: the owner's
    assert (await b.artifacts.source(mine)).editable
    with pytest.raises(errors.NotFound):
        await stranger.artifacts.source(mine)
    await b.projects.archive(pid)
    assert not (await b.artifacts.source(token)).editable
    with pytest.raises(errors.Conflict, match="archived"):
        await b.artifacts.save_revision(token, ArtifactRevisionCreate(source="<p>late</p>"))


async def test_a_reporters_chat_reply_is_kept_as_a_report_artifact(world):
    """Chat: the reporter's reply carries the token of a markdown report of the same text,
    readable by the project's members and revisable like any artifact; other agents leave none."""
    _owner, b, _viewer, vb, pid = await team(world)
    reply = await b.chat.send("Prepare the project update", project_id=pid, agent="reporter")
    assert reply.status == "complete" and reply.agent == "reporter"
    token = reply.data["artifact_token"]
    assert len(token) >= 32 and reply.data["artifact_filename"].endswith(".md")
    report = await vb.artifacts.source(token)  # a project viewer reads it
    assert report.source == reply.content and report.kind == "report" and report.project_id == pid
    assert report.content_type == "text/markdown" and report.origin == f"chat_run:{reply.run_id}"
    assert not report.editable and (await b.artifacts.source(token)).editable
    stored = (await b.sessions.get(reply.session_id)).messages
    assert next(m for m in stored if m.id == reply.message_id).data["artifact_token"] == token
    revised = await b.artifacts.save_revision(token, ArtifactRevisionCreate(source=reply.content + "\nChecked.\n"))
    assert revised.revision == 2 and [r.revision for r in revised.revisions] == [2, 1]
    stranger = await world.as_(await world.user(team=TEAM))
    with pytest.raises(errors.NotFound):
        await stranger.artifacts.download(token)
    helper = await b.chat.send("What is waiting for me?", agent="helper")
    assert "artifact_token" not in helper.data
    private = await b.chat.send("Summarise progress", agent="reporter")  # no project: only its author's
    assert (await b.artifacts.source(private.data["artifact_token"])).editable
    with pytest.raises(errors.NotFound):
        await vb.artifacts.source(private.data["artifact_token"])


async def test_the_artifacts_a_user_may_see_are_listed_newest_first(world):
    """``GET /api/v1/attachments`` (an addition to the map): project members see the
    project's artifacts, a project-less one only its owner; filters and pages work."""
    owner, b, _viewer, vb, pid = await team(world)
    first = await make_artifact(world, owner, pid, "<p>one</p>")
    second = await make_artifact(world, owner, pid, "# two", "text/markdown", "two.md")
    private = await make_artifact(world, owner, None, "<p>mine</p>")
    mine = [a.reference_token for a in (await b.artifacts.list(limit=200)).items]
    assert mine.index(private) < mine.index(second) < mine.index(first)  # newest first
    seen = [a.reference_token for a in (await vb.artifacts.list(project_id=pid)).items]
    assert seen == [second, first]
    listed = (await vb.artifacts.list(project_id=pid, kind="report", limit=1))
    assert [a.reference_token for a in listed.items] == [second] and listed.next_cursor
    rest = await vb.artifacts.list(project_id=pid, kind="report", limit=1, cursor=listed.next_cursor)
    assert [a.reference_token for a in rest.items] == [first] and rest.next_cursor is None
    assert listed.items[0].filename == "two.md" and listed.items[0].current_revision == 1
    assert private not in [a.reference_token for a in (await vb.artifacts.list(limit=200)).items]
    stranger = await world.as_(await world.user(team=TEAM))
    assert not {first, second, private} & {a.reference_token for a in (await stranger.artifacts.list(limit=200)).items}
    with pytest.raises(errors.NotFound):
        await stranger.artifacts.list(project_id=pid)
