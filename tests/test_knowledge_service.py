"""Knowledge service details the contract tests cannot see: the FTS index stays in step
(cascades, migrations), query escaping holds for any text, splitting, meditation is
deterministic, agents are narrowed by their namespace policy, limits."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from crewos_tui.backend import errors
from crewos_tui.backend.local import db as dbmod
from crewos_tui.backend.local import fts
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.knowledge.agents import (
    agent_add_entry,
    agent_retrieve,
    agent_search,
)
from crewos_tui.backend.local.services.knowledge.meditation import propose
from crewos_tui.backend.local.services.knowledge.split import split_document
from crewos_tui.backend.local.tables import KnowledgeEntryRow
from crewos_tui.backend.local.tables.knowledge import KNOWLEDGE_TABLES
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import (
    AgentNamespacePolicyUpdate,
    KnowledgeEntryCreate,
    KnowledgeEntryUpdate,
    KnowledgeIngest,
    KnowledgeSearch,
    MeditationTrigger,
    ProjectCreate,
)

from .conftest import fast_settings


async def writer(services, make_user, grants=("kb/*",), role="member"):
    info, _ = await make_user(grants=list(grants), role=role)
    return await services.auth.principal_for(info.username)


async def fts_count(services, query: str) -> int:
    async with services.ctx.db.read() as s:
        return int((await s.execute(text("SELECT count(*) FROM knowledge_fts WHERE knowledge_fts MATCH :q"),
                                    {"q": query})).scalar() or 0)


# ---- the index -------------------------------------------------------------------------------


async def test_the_index_follows_inserts_updates_and_bulk_deletes(services, make_user):
    p = await writer(services, make_user)
    res = await services.knowledge.ingest(p, KnowledgeIngest(namespace="kb/a", filename="z.md",
                                                             content="# Zebra\nstripes\n# Yak\nwool"))
    assert await fts_count(services, "stripes") == 1
    await services.knowledge.update(p, res.entry_ids[0], KnowledgeEntryUpdate(body="spots"))
    assert await fts_count(services, "stripes") == 0 and await fts_count(services, "spots") == 1
    await services.knowledge.delete_file(p, file_id=res.file.id)  # a bulk DELETE: triggers per row
    assert await fts_count(services, "spots OR wool OR zebra") == 0
    async with services.ctx.db.read() as s:  # FTS5's own consistency check against the content table
        await s.execute(text("INSERT INTO knowledge_fts(knowledge_fts) VALUES('integrity-check')"))


async def test_deleting_a_project_keeps_ingested_knowledge(services, make_user):
    p = await writer(services, make_user)
    project = await services.projects.create(p, ProjectCreate(name="Doc source"))
    doc = await services.projects.upload_document(p, project.id, "a.md", b"# A\nalpha")
    res = await services.knowledge.ingest(p, KnowledgeIngest(namespace="kb/a", project_id=project.id,
                                                             document_id=doc.id))
    await services.projects.delete(p, project.id)
    files = (await services.knowledge.list_files(p)).items
    assert files[0].id == res.file.id and files[0].project_id is None and files[0].entry_count == 1


def _step_adding(table: str) -> int:
    """The index of the migration step that creates ``table``."""
    for i, step in enumerate(dbmod.MIGRATIONS):
        names = [c.cell_contents for c in (step.__closure__ or ()) if isinstance(c.cell_contents, tuple)]
        if any(table in n for n in names):
            return i
    raise AssertionError(f"no migration step adds {table}")


async def test_an_older_database_gets_the_index_by_migration(tmp_path):
    path = tmp_path / "old.db"
    svc = await Services.open(path, settings=fast_settings())
    await svc.close()
    con = sqlite3.connect(path)  # make it look like the schema before the knowledge slice
    for name in ("knowledge_fts", *reversed(KNOWLEDGE_TABLES), "artifact_revisions", "artifacts"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"PRAGMA user_version = {_step_adding('knowledge_entries') + 1}")  # later steps may follow
    con.commit()
    con.close()
    svc = await Services.open(path, settings=fast_settings())
    try:
        assert await svc.ctx.db.schema_version() == dbmod.SCHEMA_VERSION
        p = Principal.system()
        await svc.knowledge.create(p, KnowledgeEntryCreate(namespace="kb/x", title="Migrated", body="it works"))
        res = await svc.knowledge.search(p, KnowledgeSearch(query="works"))
        assert [h.entry.title for h in res.items] == ["Migrated"]
    finally:
        await svc.close()


# ---- query escaping ----------------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60), st.sampled_from(["all", "any"]))
def test_any_text_becomes_a_query_fts5_accepts(query: str, mode: str) -> None:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61 remove_diacritics 2')")
    con.execute("INSERT INTO t VALUES ('some words here')")
    try:
        expression = fts.match_expression(query, mode)
    except errors.Invalid:
        return  # no words: a readable 422
    con.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()


def test_operators_are_words_and_phrases_prefixes_survive() -> None:
    assert fts.match_expression('deploy NOT "blue green" roll* x*') == '"deploy" AND "NOT" AND "blue green" AND ' \
                                                                       '"roll"* AND "x"'
    assert fts.match_expression("a b", "any") == '"a" OR "b"'
    with pytest.raises(errors.Invalid, match="longer"):
        fts.match_expression("x" * 501)


# ---- splitting -----------------------------------------------------------------------------------


def test_huge_sections_are_cut_in_numbered_parts() -> None:
    body = "\n\n".join(f"para {i} " + "w " * 150 for i in range(8))
    parts = split_document("markdown", f"# Big\n{body}", "big.md", 1000)
    assert len(parts) > 1 and all(len(p.body) <= 1000 for p in parts)
    assert parts[0].title == f"Big (part 1 of {len(parts)})" and parts[-1].path == "Big"
    one_long_word = split_document("text", "x" * 2500, "w.txt", 1000)
    assert [len(p.body) for p in one_long_word] == [1000, 1000, 500]


def test_csv_without_a_title_column_groups_rows() -> None:
    rows = "\n".join(["a,b"] + [f"{i},{i * 2}" for i in range(200)])
    parts = split_document("csv", rows, "nums.csv", 1000)
    assert parts[0].title.startswith("Nums rows 1–") and len(parts) > 1
    assert "- a: 0\n- b: 0" in parts[0].body


# ---- meditation ------------------------------------------------------------------------------------


async def test_meditation_is_deterministic(services, make_user):
    p = await writer(services, make_user)
    for i in range(6):
        await services.knowledge.create(p, KnowledgeEntryCreate(
            namespace="kb/m", title=f"Cache note {i}", body=f"cache eviction policy lru ttl note {i % 2}"))
    async with services.ctx.db.read() as s:
        rows = list((await s.scalars(select(KnowledgeEntryRow))).all())
    now = services.ctx.clock.now()
    first = [(x.kind, x.fingerprint, x.score) for x in propose(rows, set(), set(), now, MeditationTrigger())]
    again = [(x.kind, x.fingerprint, x.score) for x in propose(list(reversed(rows)), set(), set(), now,
                                                                 MeditationTrigger())]
    assert first == again and any(k == "merge" for k, _, _ in first)


async def test_meditation_caps_proposals_and_flags_stale_entries(services, make_user):
    p = await writer(services, make_user)
    for i in range(5):
        await services.knowledge.create(p, KnowledgeEntryCreate(namespace="kb/s", title=f"Lonely {i}",
                                                                body=f"unique{i} words{i}"))
    run = await services.knowledge.trigger_meditation(Principal.system(), MeditationTrigger(
        namespaces=["kb/s"], max_proposals=3, stale_days=1))
    assert run.orphans_flagged + run.stale_flagged == 3 and "over the cap" in run.message
    with pytest.raises(errors.NotFound):
        await services.knowledge.trigger_meditation(Principal.system(), MeditationTrigger(namespaces=["no/such"]))


# ---- agents ------------------------------------------------------------------------------------------


async def test_agents_see_the_callers_namespaces_narrowed_by_policy(services, make_user):
    p = await writer(services, make_user, grants=("kb/*",))
    await services.knowledge.create(p, KnowledgeEntryCreate(namespace="kb/public", title="Open", body="shared fact"))
    await services.knowledge.create(p, KnowledgeEntryCreate(namespace="kb/private", title="Closed",
                                                            body="shared secret fact"))
    ctx = services.ctx
    both = await agent_search(ctx, p, "helper", "fact")
    assert {h.entry.title for h in both.items} == {"Open", "Closed"}  # no policy: the caller's namespaces
    await services.admin.update_agent_namespace_policy(Principal.system(), "helper", AgentNamespacePolicyUpdate(
        read=["kb/public"], write=["kb/notes"]))
    assert [h.entry.title for h in (await agent_search(ctx, p, "helper", "fact")).items] == ["Open"]
    assert [i.entry.title for i in (await agent_retrieve(ctx, p, "helper", "secret fact")).items] == ["Open"]
    with pytest.raises(errors.NotFound):
        await agent_search(ctx, p, "helper", "fact", namespaces=["kb/private"])
    with pytest.raises(errors.Forbidden):
        await agent_add_entry(ctx, p, "helper", KnowledgeEntryCreate(namespace="kb/public", title="x"))
    note = await agent_add_entry(ctx, p, "helper", KnowledgeEntryCreate(namespace="kb/notes", title="Agent note"))
    assert note.namespace == "kb/notes"
    other = await writer(services, make_user, grants=("elsewhere/*",))
    with pytest.raises(errors.Forbidden):  # the policy never widens the caller's grants
        await agent_add_entry(ctx, other, "helper", KnowledgeEntryCreate(namespace="kb/notes", title="x"))


# ---- limits -------------------------------------------------------------------------------------------


async def test_upload_limit_is_the_settings_limit(tmp_path, make_user):
    svc = await Services.open(tmp_path / "small.db", settings=fast_settings(max_upload_bytes=100))
    try:
        p = Principal.system()
        with pytest.raises(errors.PayloadTooLarge):
            await svc.knowledge.ingest(p, KnowledgeIngest(namespace="kb/x", filename="a.md", content="é" * 60))
        ok = await svc.knowledge.ingest(p, KnowledgeIngest(namespace="kb/x", filename="a.md", content="# A\nb"))
        assert ok.entries_created == 1
    finally:
        await svc.close()


async def test_large_documents_go_to_the_background_by_themselves(services, make_user):
    p = await writer(services, make_user)
    content = "\n".join(f"# H{i}\nbody {i}" for i in range(400))  # over INLINE_SECTIONS
    res = await services.knowledge.ingest(p, KnowledgeIngest(namespace="kb/big", filename="big.md",
                                                             content=content))
    assert res.status == "queued" and res.job_id
    small = await services.knowledge.ingest(p, KnowledgeIngest(namespace="kb/big", filename="s.md",
                                                               content="# a\nb", background=False))
    assert small.status == "ingested"
