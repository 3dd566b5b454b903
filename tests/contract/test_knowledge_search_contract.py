"""Full-text search, graph-aware retrieval and namespace isolation on both backends."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import (
    KnowledgeEntryCreate,
    KnowledgeEntryUpdate,
    KnowledgeIngest,
    KnowledgeRetrieve,
    KnowledgeSearch,
    WikiLinkCreate,
)

from .knowledge_support import kb_user, space


async def test_search_ranks_by_bm25_and_marks_snippets(world):
    sp = await space(world)
    weak = await sp.entry("Office plants", "Water the ferns weekly. A heartbeat of green in the lobby.")
    strong = await sp.entry("Heartbeat leases", "A runner renews its lease with a heartbeat; a missed heartbeat "
                                                "lets another runner take the job.")
    await sp.entry("Unrelated", "Nothing to see here.")
    res = await sp.b.knowledge.search(KnowledgeSearch(query="heartbeat", namespaces=[sp.ns()]))
    assert [h.entry.id for h in res.items] == [strong.id, weak.id] and res.total == 2
    assert res.items[0].score > res.items[1].score
    assert "«heartbeat»" in res.items[0].snippet.lower() and "«Heartbeat»" in res.items[0].title_snippet
    # stemming: "leases" finds "lease"; prefixes and phrases work
    assert [h.entry.id for h in (await sp.b.knowledge.search(
        KnowledgeSearch(query="lease", namespaces=[sp.ns()]))).items] == [strong.id]
    assert [h.entry.id for h in (await sp.b.knowledge.search(
        KnowledgeSearch(query="fer*", namespaces=[sp.ns()]))).items] == [weak.id]
    assert [h.entry.id for h in (await sp.b.knowledge.search(
        KnowledgeSearch(query='"missed heartbeat"', namespaces=[sp.ns()]))).items] == [strong.id]


async def test_all_or_any_words_and_pages(world):
    sp = await space(world)
    both = await sp.entry("Queue and cache", "queue cache")
    await sp.entry("Only queue", "queue")
    await sp.entry("Only cache", "cache")
    all_ = await sp.b.knowledge.search(KnowledgeSearch(query="queue cache", namespaces=[sp.ns()]))
    assert [h.entry.id for h in all_.items] == [both.id]
    any_ = await sp.b.knowledge.search(KnowledgeSearch(query="queue cache", match="any", namespaces=[sp.ns()]))
    assert any_.total == 3 and any_.items[0].entry.id == both.id
    p1 = await sp.b.knowledge.search(KnowledgeSearch(query="queue cache", match="any", namespaces=[sp.ns()],
                                                     limit=2))
    p2 = await sp.b.knowledge.search(KnowledgeSearch(query="queue cache", match="any", namespaces=[sp.ns()],
                                                     limit=2, cursor=p1.next_cursor))
    assert len(p1.items) == 2 and len(p2.items) == 1 and p2.next_cursor is None
    assert {h.entry.id for h in p1.items + p2.items} == {h.entry.id for h in any_.items}


@pytest.mark.parametrize("query", ['NEAR(a b', '"unbalanced', 'title:secret', 'a AND OR NOT b', '(((', '^x',
                                   '-minus +plus', 'col:* "x"*', "naïve café", "x' OR 1=1 --", "a" * 400])
async def test_any_query_text_is_safe(world, query):
    sp = await space(world)
    await sp.entry("Naive cafe", "naïve café NEAR the title secret minus plus")
    try:
        res = await sp.b.knowledge.search(KnowledgeSearch(query=query, match="any", namespaces=[sp.ns()]))
    except errors.Invalid as exc:  # a readable 422, never a server error
        assert "no words" in str(exc)
    else:
        assert res.total >= 0


async def test_a_query_without_words_is_422(world):
    sp = await space(world)
    for query in ["***", '"" ()', "-- ^"]:
        with pytest.raises(errors.Invalid, match="no words"):
            await sp.b.knowledge.search(KnowledgeSearch(query=query))


async def test_fts5_syntax_works_and_its_errors_are_422(world):
    """``match="fts5"``: operators and column filters work; a query FTS5 refuses is a
    readable 422 (through the server too), and the namespace filter still holds."""
    sp = await space(world)
    lease = await sp.entry("Heartbeat leases", "A runner renews its lease with a heartbeat.")
    ferns = await sp.entry("Office plants", "Water the ferns; a heartbeat of green.")
    await sp.entry("Elsewhere", "heartbeat and lease", ns="other")

    async def ids(query: str) -> list[str]:
        res = await sp.b.knowledge.search(KnowledgeSearch(query=query, match="fts5", namespaces=[sp.ns()]))
        return [h.entry.id for h in res.items]

    assert await ids("heartbeat NOT lease") == [ferns.id]
    assert await ids("title:heartbeat") == [lease.id]
    assert sorted(await ids("ferns OR renews")) == sorted([lease.id, ferns.id])
    assert await ids("NEAR(runner heartbeat, 5)") == [lease.id]
    for query, why in [("NEAR(a b", "ends too early"), ('"unbalanced', "quotation mark is not closed"),
                       ("a AND OR b", 'syntax error near "OR"'), ("owner:maya", 'no field "owner"'),
                       ("(((", "ends too early")]:
        with pytest.raises(errors.Invalid, match="not valid FTS5 syntax") as caught:
            await ids(query)
        assert why in str(caught.value), (query, str(caught.value))


async def test_hidden_archived_and_tags(world):
    sp = await space(world)
    e1 = await sp.entry("Kafka topics", "partitions and offsets", tags=["streaming"])
    e2 = await sp.entry("Kafka consumers", "offsets per group", tags=["streaming", "ops"])

    def found(r):
        return [h.entry.id for h in r.items]

    assert found(await sp.b.knowledge.search(KnowledgeSearch(query="offsets", tags=["ops"]))) == [e2.id]
    await sp.b.knowledge.update(e2.id, KnowledgeEntryUpdate(visibility="hidden"))
    assert found(await sp.b.knowledge.search(KnowledgeSearch(query="offsets", namespaces=[sp.ns()]))) == [e1.id]
    assert set(found(await sp.b.knowledge.search(KnowledgeSearch(query="offsets", namespaces=[sp.ns()],
                                                                 include_hidden=True)))) == {e1.id, e2.id}
    await sp.b.knowledge.update(e1.id, KnowledgeEntryUpdate(status="archived"))
    assert found(await sp.b.knowledge.search(KnowledgeSearch(query="offsets", namespaces=[sp.ns()]))) == []
    # updates reach the index
    await sp.b.knowledge.update(e1.id, KnowledgeEntryUpdate(status="active", body="brokers only"))
    assert found(await sp.b.knowledge.search(KnowledgeSearch(query="brokers", namespaces=[sp.ns()]))) == [e1.id]


async def test_retrieve_follows_links_with_paths(world):
    sp = await space(world)
    seed = await sp.entry("Incident runbook", "When the pager fires, check the dashboards first.")
    hop1 = await sp.entry("Dashboards", "Grafana boards for latency and errors.")
    hop2 = await sp.entry("Grafana access", "Ask the platform team for an account.")
    await sp.entry("Lunch menu", "Soup on Fridays.")
    await sp.b.knowledge.create_link(seed.id, WikiLinkCreate(target_id=hop1.id, kind="references"))
    await sp.b.knowledge.create_link(hop2.id, WikiLinkCreate(target_id=hop1.id, kind="part_of"))
    res = await sp.b.knowledge.retrieve(KnowledgeRetrieve(query="pager fires", namespaces=[sp.ns()], hops=2))
    by_id = {i.entry.id: i for i in res.items}
    assert [i.entry.id for i in res.items] == [seed.id, hop1.id, hop2.id]
    assert by_id[seed.id].hop == 0 and by_id[seed.id].score == 1.0 and "«pager»" in by_id[seed.id].snippet
    assert by_id[hop1.id].hop == 1 and by_id[hop1.id].score == 0.5
    assert [s.entry_id for s in by_id[hop2.id].path] == [seed.id, hop1.id, hop2.id]
    assert [(s.link_kind, s.direction) for s in by_id[hop2.id].path[1:]] == [("references", "out"),
                                                                              ("part_of", "in")]
    assert by_id[hop2.id].entry.body.startswith("Ask the platform")
    assert res.seeds == 1 and res.expanded == 2
    only = await sp.b.knowledge.retrieve(KnowledgeRetrieve(query="pager fires", namespaces=[sp.ns()], hops=0))
    assert [i.entry.id for i in only.items] == [seed.id]


async def test_a_user_never_sees_another_namespace(world):
    """Search, retrieve, list, graph, files, links and governance all stay inside one's grants."""
    owner = await space(world)
    secret = await owner.entry("Payroll secret", "salary bands confidential", ns="hr")
    public = await owner.entry("Payroll overview", "how salary is paid", ns="wiki")
    await owner.b.knowledge.create_link(public.id, WikiLinkCreate(target_id=secret.id))
    await owner.b.knowledge.ingest(KnowledgeIngest(namespace=owner.ns("hr"), filename="bands.md",
                                                   content="# Bands\nsalary bands table"))
    reader = await world.as_(await kb_user(world, [owner.ns("wiki")]))
    assert [h.entry.id for h in (await reader.knowledge.search(KnowledgeSearch(query="salary"))).items] == \
        [public.id]
    retrieved = await reader.knowledge.retrieve(KnowledgeRetrieve(query="salary", hops=2))
    assert [i.entry.id for i in retrieved.items] == [public.id]
    assert secret.id not in [e.id for e in (await reader.knowledge.list(limit=200)).items]
    graph = await reader.knowledge.wiki_graph(entry_id=public.id, depth=2)
    assert [n.id for n in graph.nodes] == [public.id] and graph.edges == []
    assert graph.nodes[0].orphan  # its only link leads where the reader cannot look
    assert (await reader.knowledge.list_links(public.id)).items == []
    assert (await reader.knowledge.list_files()).items == []
    for call in (reader.knowledge.search(KnowledgeSearch(query="salary", namespaces=[owner.ns("hr")])),
                 reader.knowledge.wiki_graph(namespace=owner.ns("hr")),
                 reader.knowledge.list_files(namespace=owner.ns("hr")),
                 reader.knowledge.governance(namespace=owner.ns("hr")),
                 reader.knowledge.create_link(public.id, WikiLinkCreate(target_id=secret.id)),
                 reader.knowledge.download_file(secret.id)):
        with pytest.raises((errors.NotFound, errors.Forbidden)):
            await call
    # the link attempt to an invisible entry is specifically 404, not 403
    writer = await world.as_(await kb_user(world, [owner.ns("wiki")]))
    mine = await writer.knowledge.create(KnowledgeEntryCreate(namespace=owner.ns("wiki"), title="Mine"))
    with pytest.raises(errors.NotFound):
        await writer.knowledge.create_link(mine.id, WikiLinkCreate(target_id=secret.id))
