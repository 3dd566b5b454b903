"""Ingest (formats, replace, project documents, background jobs, bad input) and source
files (list, delete, visibility, download) on both backends."""

from __future__ import annotations

import base64
import json

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import (
    AgentJobCreate,
    KnowledgeFileVisibility,
    KnowledgeIngest,
    KnowledgeSearch,
    ProjectCreate,
)

from ..conftest import unique
from .knowledge_support import kb_user, run_jobs_until_done, space

GUIDE = """Intro text before any heading.

# Operations guide

## Deploy
Run the deploy script, then watch the canary.

```sh
# not a heading inside code
./deploy --canary
```

## Rollback
Revert the release tag.

Setext heading
--------------
Under a setext heading.
"""


async def titles(b, file_id: str) -> list[str]:
    page = await b.knowledge.list(file_id=file_id, limit=200)
    return [e.title for e in reversed(page.items)]


async def test_markdown_round_trip(world):
    sp = await space(world)
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="ops-guide.md", content=GUIDE,
                                                      tags=["ops"]))
    assert res.status == "ingested" and res.entries_created == 4 and res.job_id is None
    assert res.file.filename == "ops-guide.md" and res.file.entry_count == 4 and res.file.status == "ready"
    assert await titles(sp.b, res.file.id) == ["Ops guide", "Deploy", "Rollback", "Setext heading"]
    deploy = await sp.b.knowledge.get(res.entry_ids[1])
    assert deploy.source_section == "Operations guide › Deploy" and "# not a heading" in deploy.body
    assert deploy.tags == ["ops"] and deploy.source_filename == "ops-guide.md"
    src = await sp.b.knowledge.download_file(deploy.id)
    assert src.content == GUIDE.encode() and src.filename == "ops-guide.md" and src.content_type == "text/markdown"
    files = await sp.b.knowledge.list_files(namespace=sp.ns())
    assert [f.id for f in files.items] == [res.file.id]
    with pytest.raises(errors.Conflict, match="exactly this content"):
        await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="ops-guide.md", content=GUIDE))
    with pytest.raises(errors.Conflict, match="replace"):
        await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="ops-guide.md", content="# New\nx"))
    again = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="ops-guide.md",
                                                        content="# New\nshort", replace=True))
    assert again.file.id == res.file.id and again.replaced_entries == 4 and again.entries_created == 1
    with pytest.raises(errors.NotFound):
        await sp.b.knowledge.get(deploy.id)


async def test_html_csv_json_and_text_formats(world):
    sp = await space(world)
    html = ("<html><head><title>Team page</title><script>alert(1)</script></head><body>"
            "<h1>Team</h1><p>We build <b>things</b>.</p><h2>Contacts</h2><ul><li>Ana</li><li>Bo</li></ul>"
            "</body></html>")
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="team.html", content=html))
    assert await titles(sp.b, res.file.id) == ["Team", "Contacts"]
    body = (await sp.b.knowledge.get(res.entry_ids[0])).body
    assert "We build things." in body and "alert" not in body
    csv_text = "name,role,city\nAna,lead,Oslo\nBo,dev,Rome\n"
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="people.csv", content=csv_text))
    assert await titles(sp.b, res.file.id) == ["Ana", "Bo"]
    assert "- city: Oslo" in (await sp.b.knowledge.get(res.entry_ids[0])).body
    doc = json.dumps([{"title": "Retry policy", "max": 3}, {"title": "Timeouts", "seconds": 30}])
    raw = base64.b64encode(doc.encode()).decode()
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="policies.json",
                                                      content_base64=raw))
    assert await titles(sp.b, res.file.id) == ["Retry policy", "Timeouts"]
    text = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(10))
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="notes.txt", content=text,
                                                      max_chars=1000))
    assert res.entries_created > 1 and all(len(e.body) <= 1000 for e in
                                            [await sp.b.knowledge.get(i) for i in res.entry_ids])


async def test_bad_documents_are_refused_readably(world):
    sp = await space(world)
    ns = sp.ns()
    binary = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR").decode()
    cases = [
        (KnowledgeIngest(namespace=ns, filename="logo.md", content_base64=binary), errors.UnsupportedMedia, "binary"),
        (KnowledgeIngest(namespace=ns, filename="report.pdf", content="x"), errors.UnsupportedMedia, "format"),
        (KnowledgeIngest(namespace=ns, filename="bad.json", content="{nope"), errors.Invalid, "JSON"),
        (KnowledgeIngest(namespace=ns, filename="empty.md", content="   \n"), errors.Invalid, "no text"),
        (KnowledgeIngest(namespace=ns, filename="x.md", content_base64="@@@"), errors.Invalid, "base64"),
        (KnowledgeIngest(namespace="elsewhere/x", filename="x.md", content="hi"), errors.Forbidden, "grants"),
    ]
    for data, error, words in cases:
        with pytest.raises(error, match=words):
            await sp.b.knowledge.ingest(data)
    limit = world.services.ctx.settings.max_upload_bytes
    with pytest.raises(errors.PayloadTooLarge):
        await sp.b.knowledge.ingest(KnowledgeIngest(namespace=ns, filename="big.txt", content="a" * (limit + 1)))
    assert (await sp.b.knowledge.list_files(namespace=ns)).items == []  # nothing half-written


async def test_file_visibility_and_delete(world):
    sp = await space(world)
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="faq.md",
                                                      content="# Vacation\nAsk your lead.\n# Expenses\nUse the form."))

    def found(r):
        return len(r.items)

    assert found(await sp.b.knowledge.search(KnowledgeSearch(query="form", namespaces=[sp.ns()]))) == 1
    hidden = await sp.b.knowledge.set_file_visibility(KnowledgeFileVisibility(
        namespace=sp.ns(), filename="faq.md", visibility="hidden"))
    assert hidden.visibility == "hidden"
    assert found(await sp.b.knowledge.search(KnowledgeSearch(query="form", namespaces=[sp.ns()]))) == 0
    assert found(await sp.b.knowledge.list(namespace=sp.ns(), visibility="hidden")) == 2
    await sp.b.knowledge.set_file_visibility(KnowledgeFileVisibility(file_id=res.file.id, visibility="visible"))
    assert found(await sp.b.knowledge.search(KnowledgeSearch(query="form", namespaces=[sp.ns()]))) == 1
    viewer = await world.as_(await kb_user(world, [f"{sp.prefix}/*"], role="viewer"))
    with pytest.raises(errors.Forbidden):
        await viewer.knowledge.delete_file(file_id=res.file.id)
    with pytest.raises(errors.Invalid):
        await sp.b.knowledge.delete_file()
    gone = await sp.b.knowledge.delete_file(namespace=sp.ns(), filename="faq.md")
    assert gone.entries_deleted == 2 and gone.filename == "faq.md"
    assert (await sp.b.knowledge.list(namespace=sp.ns())).items == []
    with pytest.raises(errors.NotFound):
        await sp.b.knowledge.delete_file(file_id=res.file.id)


async def test_entry_without_a_source_file_has_nothing_to_download(world):
    sp = await space(world)
    e = await sp.entry("Typed in", "by hand")
    with pytest.raises(errors.NotFound, match="written directly"):
        await sp.b.knowledge.download_file(e.id)


async def test_project_documents_are_ingested_by_reference(world):
    sp = await space(world)
    project = await sp.b.projects.create(ProjectCreate(name=unique("KB project ")))
    doc = await sp.b.projects.upload_document(project.id, "plan.md", b"# Plan\nShip it.\n# Risks\nNone.")
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), project_id=project.id,
                                                      document_id=doc.id))
    assert res.file.source == "project_document" and res.file.project_id == project.id
    assert res.file.filename == "plan.md" and res.entries_created == 2
    other = await world.as_(await kb_user(world, [f"{sp.prefix}/*"]))  # not a project member
    with pytest.raises(errors.NotFound):
        await other.knowledge.ingest(KnowledgeIngest(namespace=sp.ns("x"), project_id=project.id,
                                                     document_id=doc.id))


async def test_large_ingests_run_as_a_background_job(world):
    sp = await space(world)
    content = "\n".join(f"# Section {i}\nBody of section {i} about topic{i}." for i in range(30))
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="big.md", content=content,
                                                      background=True))
    assert res.status == "queued" and res.job_id and res.file.status == "ingesting" and res.entries_created == 0
    with pytest.raises(errors.Conflict, match="being ingested"):
        await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="big.md", content="# x\ny",
                                                    replace=True))
    job = await run_jobs_until_done(world, res.job_id)
    assert job.status == "succeeded", job.error
    assert job.result["entries_created"] == 30
    seen = await sp.b.agent_jobs.get(res.job_id)
    assert seen.kind == "knowledge_ingest" and seen.progress == 100
    events = (await sp.b.agent_jobs.list_events(res.job_id, limit=200)).items
    assert any(e.kind == "progress" and "30 of 30" in e.message for e in events)
    files = (await sp.b.knowledge.list_files(namespace=sp.ns())).items
    assert files[0].status == "ready" and files[0].entry_count == 30
    assert len((await sp.b.knowledge.list(file_id=res.file.id, limit=200)).items) == 30


async def test_ingest_jobs_can_be_queued_directly_but_only_for_writable_files(world):
    sp = await space(world)
    res = await sp.b.knowledge.ingest(KnowledgeIngest(namespace=sp.ns(), filename="a.md", content="# A\nx"))
    other = await world.as_(await kb_user(world, ["elsewhere/*"]))
    with pytest.raises(errors.NotFound):
        await other.agent_jobs.create(AgentJobCreate(kind="knowledge_ingest", params={"file_id": res.file.id}))
    job = await sp.b.agent_jobs.create(AgentJobCreate(kind="knowledge_ingest", params={"file_id": res.file.id}))
    done = await run_jobs_until_done(world, job.id)
    assert done.status == "succeeded" and done.result["entries_created"] == 1
