"""Pilot tests of the knowledge screen: every action by keyboard, checked against the
backend (not only the screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Label, ProgressBar, TextArea, Tree

from crewos_tui.backend.schemas import KnowledgeSearch
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.artifact import ArtifactScreen
from crewos_tui.screens.knowledge import KnowledgeScreen
from crewos_tui.widgets.confirm import ConfirmModal
from crewos_tui.widgets.forms import FormModal

from .app_support import Notes, make_app, settle

SIZE = (120, 40)


async def on_knowledge(pilot: Pilot[Any]) -> KnowledgeScreen:
    await settle(pilot)
    await pilot.press("7")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, KnowledgeScreen), screen
    return screen


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[{" ": "space", "*": "asterisk", '"': "quotation_mark", ":": "colon"}.get(c, c) for c in text])


async def search(pilot: Pilot[Any], screen: KnowledgeScreen, words: str) -> None:
    await pilot.press("slash")
    await type_text(pilot, words)
    await pilot.pause(0.3)  # the search waits for a pause in typing
    await settle(pilot)
    assert screen.query_text == words


async def entry_id(pilot: Pilot[Any], title: str) -> str:
    page = await pilot.app.backend.knowledge.list(q=title, limit=50)
    return next(e.id for e in page.items if e.title == title and e.source_file_id is None)  # typed, not ingested


async def test_search_as_you_type_shows_ranked_hits(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        recent = [r.title for r in screen.table("results").items]
        assert recent[0] == "Durable jobs" and "Office wifi" in recent  # no query: the newest entries
        await search(pilot, screen, "lease")
        expected = await pilot.app.backend.knowledge.search(KnowledgeSearch(query="lease", match="any"))
        assert [r.id for r in screen.table("results").items] == [h.entry.id for h in expected.items]
        assert screen.table("results").items[0].title == "Job leases and heartbeats"
        assert "«lease»" in screen.table("results").items[0].snippet
        await pilot.press("ctrl+u")  # empty again: back to the newest entries
        await pilot.pause(0.3)
        await settle(pilot)
        assert [r.title for r in screen.table("results").items] == recent


async def test_fts_prefix_searches_in_fts5_syntax_and_shows_its_errors(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        await search(pilot, screen, "fts:lease NOT heartbeat")
        expected = await pilot.app.backend.knowledge.search(KnowledgeSearch(query="lease NOT heartbeat",
                                                                            match="fts5"))
        assert [r.id for r in screen.table("results").items] == [h.entry.id for h in expected.items]
        await pilot.press("ctrl+u")  # the search box keeps the focus
        await type_text(pilot, "fts:lease AND OR heartbeat")
        await pilot.pause(0.3)
        await settle(pilot)
        assert screen.query_text == "fts:lease AND OR heartbeat"
        table = screen.table("results")
        assert table.items == []
        shown = str(table.get_row_at(0)[0])
        assert "not valid FTS5 syntax" in shown and 'near "OR"' in shown


async def test_open_an_entry_follow_a_link_and_go_back(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        await search(pilot, screen, "heartbeats")
        await pilot.press("enter")  # leaves the search box for the results
        await pilot.press("enter")  # opens the highlighted result
        await settle(pilot)
        assert screen.entry is not None and screen.entry.title == "Job leases and heartbeats"
        assert screen.tabs.active == "entry"
        links = screen.table("links")
        assert {(lk.direction, lk.other_title) for lk in links.items} == {("in", "Durable jobs"), ("in", "Triage")}
        links.focus()
        assert links.select_key(next(lk.id for lk in links.items if lk.other_title == "Durable jobs"))
        await pilot.press("enter")
        await settle(pilot)
        assert screen.entry.title == "Durable jobs" and screen.history
        await pilot.press("b")
        await settle(pilot)
        assert screen.entry.title == "Job leases and heartbeats" and not screen.history


async def test_graph_draws_the_neighbourhood_and_jumps(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        screen.open_entry(await entry_id(pilot, "Durable jobs"))
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        tree = screen.query_one("#kb-graph", Tree)
        assert screen.tabs.active == "graph" and str(tree.root.label) == "Durable jobs"
        children = {str(n.label) for n in tree.root.children}
        assert "→ depends on Job leases and heartbeats" in children and "← references Review queue" in children
        leases = next(n for n in tree.root.children if "Job leases" in str(n.label))
        assert [str(n.label) for n in leases.children] == ["← references Triage"]  # two hops out
        tree.focus()
        tree.move_cursor(leases)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.entry is not None and screen.entry.title == "Job leases and heartbeats"


async def test_queue_decisions_change_the_backend(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert screen.tabs.active == "queue"
        queue = screen.table("queue")
        k = pilot.app.backend.knowledge
        link = next(i for i in queue.items if i.kind == "link" and i.entry_title == "Paging")
        assert queue.select_key(link.id)
        await pilot.press("a")
        await settle(pilot)
        assert link.id not in [i.id for i in queue.items]
        accepted = (await k.governance(status="accepted")).items
        assert link.id in [i.id for i in accepted]
        assert link.other_id in [x.other_id for x in (await k.list_links(link.entry_id)).items]
        merge = next(i for i in queue.items if i.kind == "merge")
        assert queue.select_key(merge.id)
        await pilot.press("m")
        await settle(pilot)
        assert (await k.get(merge.other_id)).merged_into == merge.entry_id
        orphan = next(i for i in queue.items if i.kind == "orphan")
        assert queue.select_key(orphan.id)
        await pilot.press("r")
        await settle(pilot)
        assert orphan.id in [i.id for i in (await k.governance(status="rejected")).items]
        assert "Queue (" in str(screen.tabs.get_tab("queue").label)


async def test_merge_key_only_merges_merge_proposals(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        notes = Notes(pilot.app)
        screen = await on_knowledge(pilot)
        screen.show_view("queue")
        await settle(pilot)
        link = next(i for i in screen.table("queue").items if i.kind == "link")
        screen.table("queue").select_key(link.id)
        await pilot.press("m")
        await settle(pilot)
        assert any("Only a merge proposal" in m for _, m in notes)
        assert link.id in [i.id for i in (await pilot.app.backend.knowledge.governance()).items]


async def test_ingest_a_file_with_progress(demo_spec: LaunchSpec, tmp_path: Path) -> None:
    doc = tmp_path / "deploys.md"
    doc.write_text("# Deploys\nUse the pipeline.\n# Hotfixes\nBranch from the tag.\n")
    big = tmp_path / "glossary.md"
    big.write_text("\n".join(f"# Term {i}\nMeaning of term {i}." for i in range(320)))  # a background job
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        for path, count in ((doc, 2), (big, 320)):
            await pilot.press("i")
            await settle(pilot)
            form = pilot.app.screen
            assert isinstance(form, FormModal)
            form.query_one("#field-path").value = str(path)  # type: ignore[attr-defined]
            form.query_one("#field-tags").value = "ops"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert pilot.app.screen is screen and screen.tabs.active == "files"
            assert screen.query_one("#kb-ingest-bar", ProgressBar).progress == 100
            assert f"Ingested {count} entries from {path.name}" in str(
                screen.query_one("#kb-ingest-label", Label).render())
            files = {f.filename: f for f in (await pilot.app.backend.knowledge.list_files(limit=200)).items}
            assert files[path.name].entry_count == count and files[path.name].status == "ready"
        assert files["glossary.md"].job_id is not None  # it went through the background job


async def test_ingest_errors_stay_in_the_form(demo_spec: LaunchSpec, tmp_path: Path) -> None:
    binary = tmp_path / "logo.md"
    binary.write_bytes(b"\x89PNG\x00\x00")
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await on_knowledge(pilot)
        await pilot.press("i")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-path").value = str(tmp_path / "missing.md")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "cannot read" in str(form.query_one("#error-path").render())
        form.query_one("#field-path").value = str(binary)  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form and "binary" in str(form.query_one("#form-error").render())


async def test_hide_and_delete_a_file_group(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        screen.show_view("files")
        await settle(pilot)
        files = screen.table("files")
        runbook = next(f for f in files.items if f.filename == "on-call.md")
        files.select_key(runbook.id)
        await pilot.press("v")
        await settle(pilot)
        k = pilot.app.backend.knowledge
        assert (await k.search(KnowledgeSearch(query="pager", match="any"))).items == []
        assert next(f for f in files.items if f.id == runbook.id).visibility == "hidden"
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert runbook.id not in [f.id for f in (await k.list_files(limit=200)).items]
        assert (await k.list(file_id=runbook.id)).items == []


async def test_artifacts_open_edit_clean_and_save(demo_spec: LaunchSpec, tmp_path: Path) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await on_knowledge(pilot)
        screen.show_view("generated")
        await settle(pilot)
        generated = screen.table("generated").items
        listed = (await pilot.app.backend.artifacts.list(limit=50)).items
        assert [g.reference_token for g in generated] == [a.reference_token for a in listed]
        kinds = {g.kind for g in generated}
        assert {"project_update", "report"} <= kinds  # the board's project update and chat reporter replies
        index = next(i for i, g in enumerate(generated) if g.filename.startswith("project-update-"))
        token = generated[index].reference_token
        screen.table("generated").focus()
        screen.table("generated").move_cursor(row=index)
        await pilot.press("enter")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, ArtifactScreen) and modal.artifact is not None
        area = modal.query_one(TextArea)
        assert area.text.startswith("<!DOCTYPE html>") and not area.read_only
        await pilot.press("e")
        assert modal.focused is area
        area.load_text(area.text.replace("</h1>", "</h1><p></p>  <div> extra </div>"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")  # leaves the editor, keeps the artifact open
        assert pilot.app.screen is modal and modal.focused is not area
        art = pilot.app.backend.artifacts
        assert (await art.source(token)).current_revision == 2
        await pilot.press("c")  # a stray letter: no cleanup, no revision
        await settle(pilot)
        assert (await art.source(token)).current_revision == 2
        await pilot.press("ctrl+l")
        await settle(pilot)
        cleaned = await art.source(token)
        assert cleaned.current_revision == 3
        assert "<p></p>" not in cleaned.source and "<div>extra</div>" in cleaned.source
        assert [r.revision for r in cleaned.revisions] == [3, 2, 1]
        modal.query_one("#artifact-revisions").focus()
        modal.query_one("#artifact-revisions").move_cursor(row=2)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert modal.artifact is not None and modal.artifact.revision == 1 and area.read_only
        await pilot.press("w")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-path").value = str(tmp_path)  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = tmp_path / cleaned.filename
        assert saved.read_bytes() == (await art.download(token, revision=1)).content
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is screen


async def test_open_an_artifact_by_token(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await on_knowledge(pilot)
        services = pilot.app.backend.services
        async with services.ctx.db.read() as s:
            from sqlalchemy import select

            from crewos_tui.backend.local.tables import ArtifactRow

            token = await s.scalar(select(ArtifactRow.reference_token).where(ArtifactRow.filename ==
                                                                             "atlas-weekly.md"))
        await pilot.press("o")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-token").value = "no-such-token"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "not found" in str(form.query_one("#form-error").render())
        form.query_one("#field-token").value = f"https://crewos.example/api/v1/attachments/{token}/download"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, ArtifactScreen) and modal.artifact is not None
        assert modal.artifact.filename == "atlas-weekly.md" and modal.artifact.current_revision == 2


async def test_a_reporter_reply_in_chat_opens_as_a_report(demo_spec: LaunchSpec, tmp_path: Path) -> None:
    """Chat: ``ctrl+f`` on the reporter's reply opens the report file it left; edits land as revisions."""
    from crewos_tui.screens.chat import ChatScreen
    from crewos_tui.widgets.chat_log import MessageLog

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        chat = pilot.app.screen
        assert isinstance(chat, ChatScreen)
        item = next(s for s in chat.sessions_table.items if s.title == "Atlas weekly update")
        chat.open_session(item.id)
        await settle(pilot)
        log = chat.query_one(MessageLog)
        log.focus()
        await settle(pilot)
        reply = log.selected_view.message
        assert reply.agent == "reporter"
        token = reply.data["artifact_token"]
        await pilot.press("ctrl+f")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, ArtifactScreen) and modal.token == token and modal.artifact is not None
        area = modal.query_one(TextArea)
        assert area.text == reply.content and modal.artifact.kind == "report" and not area.read_only
        await pilot.press("e")
        area.load_text(reply.content + "\nReviewed in the terminal.\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = await pilot.app.backend.artifacts.source(token)
        assert saved.current_revision == 2 and saved.source.endswith("Reviewed in the terminal.\n")
        assert (await pilot.app.backend.artifacts.download(token, revision=1)).content.decode() == reply.content
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert pilot.app.screen is chat


async def test_a_project_update_job_on_the_board_opens_its_artifact(demo_spec: LaunchSpec) -> None:
    """Tasks: the board's jobs panel → the project update's result → ``o`` opens its HTML artifact."""
    from crewos_tui.screens.board import BoardScreen
    from crewos_tui.widgets.jobs_panel import JobResultScreen

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        board = pilot.app.screen
        assert isinstance(board, BoardScreen)
        await pilot.press("J")
        await settle(pilot)
        jobs = board.jobs
        assert jobs is not None
        update = next(j for j in jobs.items if j.kind == "project_update" and j.status.value == "succeeded")
        table = jobs.query_one("#jobs-table")
        table.focus()
        table.move_cursor(row=table.get_row_index(update.id))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, JobResultScreen)
        await pilot.press("o")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, ArtifactScreen) and modal.artifact is not None
        assert modal.token == update.result["artifact_token"]
        assert modal.artifact.kind == "project_update" and modal.artifact.source.startswith("<!DOCTYPE html>")
