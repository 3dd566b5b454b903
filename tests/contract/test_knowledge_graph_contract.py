"""Wiki links, the graph, governance, meditation and web research on both backends."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import (
    GovernanceActionRequest,
    MeditationTrigger,
    ResearchBatch,
    ResearchRunCreate,
    ResearchSource,
    WikiLinkCreate,
    WikiLinkUpdate,
)

from .knowledge_support import TEAM, kb_user, space

DUP = ("Blue-green deployment keeps two production environments. Traffic moves from blue to green after the "
       "smoke tests pass, and moving it back is the rollback.")


async def test_links_crud(world):
    sp = await space(world)
    a, b = await sp.entry("Service A"), await sp.entry("Service B")
    link = await sp.b.knowledge.create_link(a.id, WikiLinkCreate(target_id=b.id, kind="depends_on", note="calls"))
    assert (link.direction, link.other_id, link.other_title, link.kind) == ("out", b.id, "Service B", "depends_on")
    incoming = (await sp.b.knowledge.list_links(b.id)).items
    assert [(x.id, x.direction, x.other_title) for x in incoming] == [(link.id, "in", "Service A")]
    assert (await sp.b.knowledge.list_links(b.id, direction="out")).items == []
    assert (await sp.b.knowledge.get(a.id)).links_out == 1 and (await sp.b.knowledge.get(b.id)).links_in == 1
    with pytest.raises(errors.Conflict):
        await sp.b.knowledge.create_link(a.id, WikiLinkCreate(target_id=b.id, kind="depends_on"))
    with pytest.raises(errors.Invalid):
        await sp.b.knowledge.create_link(a.id, WikiLinkCreate(target_id=a.id))
    with pytest.raises(errors.NotFound):
        await sp.b.knowledge.create_link(a.id, WikiLinkCreate(target_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    changed = await sp.b.knowledge.update_link(b.id, link.id, WikiLinkUpdate(kind="references"))
    assert changed.kind == "references" and changed.direction == "in"
    with pytest.raises(errors.Invalid):
        await sp.b.knowledge.update_link(a.id, link.id, WikiLinkUpdate())
    viewer = await world.as_(await kb_user(world, [f"{sp.prefix}/*"], role="viewer"))
    with pytest.raises(errors.Forbidden):
        await viewer.knowledge.delete_link(a.id, link.id)
    assert (await sp.b.knowledge.delete_link(a.id, link.id)).deleted
    with pytest.raises(errors.NotFound):
        await sp.b.knowledge.delete_link(a.id, link.id)


async def test_wiki_graph_of_a_namespace_and_a_neighbourhood(world):
    sp = await space(world)
    a, b, c, lone = [await sp.entry(t) for t in ("Hub", "Spoke 1", "Spoke 2", "Lonely")]
    await sp.b.knowledge.create_link(a.id, WikiLinkCreate(target_id=b.id))
    await sp.b.knowledge.create_link(b.id, WikiLinkCreate(target_id=c.id, kind="part_of"))
    graph = await sp.b.knowledge.wiki_graph(namespace=sp.ns())
    nodes = {n.id: n for n in graph.nodes}
    assert set(nodes) == {a.id, b.id, c.id, lone.id} and len(graph.edges) == 2 and not graph.truncated
    assert nodes[lone.id].orphan and not nodes[a.id].orphan and nodes[b.id].degree == 2
    near = await sp.b.knowledge.wiki_graph(entry_id=a.id, depth=1)
    assert {n.id: n.hop for n in near.nodes} == {a.id: 0, b.id: 1} and near.center == a.id
    far = await sp.b.knowledge.wiki_graph(entry_id=a.id, depth=2)
    assert {n.id for n in far.nodes} == {a.id, b.id, c.id}
    small = await sp.b.knowledge.wiki_graph(namespace=sp.ns(), max_nodes=2)
    assert small.truncated and len(small.nodes) == 2
    with pytest.raises(errors.NotFound):
        await sp.b.knowledge.wiki_graph(namespace="nobody/here")


async def test_meditation_fills_the_governance_queue_and_actions_apply(world):
    sp = await space(world)
    admin = await world.as_(await world.user(role="admin", team=TEAM))
    keep = await sp.entry("Blue-green deployment", DUP, tags=["deploy"])
    dup = await sp.entry("Blue green deploys", DUP + " Keep both warm.", tags=["release"])
    related_a = await sp.entry("Kubernetes probes", "Liveness and readiness probes decide pod restarts; "
                                                   "readiness gates traffic to pods.")
    related_b = await sp.entry("Pod readiness", "A pod receives traffic only when readiness probes pass; "
                                                "failing liveness probes restart pods.")
    orphan = await sp.entry("Office wifi", "The password is on the fridge.")
    with pytest.raises(errors.Forbidden):
        await sp.b.knowledge.trigger_meditation(MeditationTrigger(namespaces=[sp.ns()]))
    run = await admin.knowledge.trigger_meditation(MeditationTrigger(namespaces=[sp.ns()]))
    assert run.status == "completed" and run.entries_scanned == 5 and run.mode == "builtin"
    assert run.merges_proposed == 1 and run.links_proposed >= 1 and run.orphans_flagged >= 1
    queue = await sp.b.knowledge.governance(namespace=sp.ns())
    assert queue.counts["merge"] == 1 and queue.counts["orphan"] >= 1
    by_kind = {}
    for item in queue.items:
        by_kind.setdefault(item.kind, []).append(item)
    merge = by_kind["merge"][0]
    assert (merge.entry_id, merge.other_id) == (keep.id, dup.id) and merge.score >= 0.7
    link_item = next(i for i in by_kind["link"] if {i.entry_id, i.other_id} == {related_a.id, related_b.id})
    assert "share salient terms" in link_item.reason
    assert orphan.id in [i.entry_id for i in by_kind["orphan"]]
    # accept a link proposal: the link exists
    done = await sp.b.knowledge.apply_governance(GovernanceActionRequest(item_id=link_item.id, action="accept"))
    assert done.item.status == "accepted" and done.link is not None and done.item.result_link_id == done.link.id
    assert [x.other_id for x in (await sp.b.knowledge.list_links(related_a.id)).items] == [related_b.id]
    with pytest.raises(errors.Conflict):
        await sp.b.knowledge.apply_governance(GovernanceActionRequest(item_id=link_item.id, action="reject"))
    with pytest.raises(errors.Invalid, match="orphan"):  # only merge proposals can be merged
        await sp.b.knowledge.apply_governance(GovernanceActionRequest(item_id=by_kind["orphan"][0].id,
                                                                      action="merge"))
    # merge the near-duplicate: the kept entry gains tags and a version, the other is archived
    merged = await sp.b.knowledge.apply_governance(GovernanceActionRequest(item_id=merge.id, action="merge"))
    assert merged.item.status == "merged" and merged.entry.id == keep.id and merged.entry.version == 2
    assert set(merged.entry.tags) == {"deploy", "release"} and "Keep both warm." in merged.entry.body
    gone = await sp.b.knowledge.get(dup.id)
    assert gone.status == "archived" and gone.merged_into == keep.id
    # archive the orphan
    orphan_item = next(i for i in by_kind["orphan"] if i.entry_id == orphan.id)
    archived = await sp.b.knowledge.apply_governance(GovernanceActionRequest(item_id=orphan_item.id,
                                                                             action="archive"))
    assert archived.item.status == "archived" and (await sp.b.knowledge.get(orphan.id)).status == "archived"
    # a second run proposes nothing already decided or queued
    again = await admin.knowledge.trigger_meditation(MeditationTrigger(namespaces=[sp.ns()]))
    assert again.merges_proposed == 0 and again.links_proposed == 0
    runs = (await admin.knowledge.meditation_runs(limit=200)).items
    assert {run.id, again.id} <= {r.id for r in runs}
    decided = await sp.b.knowledge.governance(namespace=sp.ns(), status="merged")
    assert [i.id for i in decided.items] == [merge.id]
    with pytest.raises(errors.Forbidden):
        await sp.b.knowledge.meditation_runs()
    stranger = await world.as_(await kb_user(world, ["elsewhere/*"]))
    with pytest.raises(errors.NotFound):
        await stranger.knowledge.apply_governance(GovernanceActionRequest(item_id=merge.id, action="reject"))


async def test_web_research_reviews_only_what_it_is_given(world):
    sp = await space(world)
    admin = await world.as_(await world.user(role="admin", team=TEAM))
    existing = await sp.entry("Rate limiting", "Token buckets refill at a fixed rate; each request takes a token, "
                                               "and an empty bucket means the request waits or is refused.")
    sources = [
        ResearchSource(url="https://example.org/rate-limits", title="Rate limiting algorithms",
                       content="<html><body><h1>Rate limiting algorithms</h1><p>Sliding window and token bucket "
                               "rate limiting compared: the sliding window counts requests per window, the "
                               "token bucket allows bursts.</p></body></html>"),
        ResearchSource(url="https://example.org/cats", content="Cats sleep for most of the day and purr when "
                                                               "content, which is a well documented fact."),
        ResearchSource(url="https://example.org/no-content"),
        ResearchSource(filename="copy.md", content=existing.body),
    ]
    with pytest.raises(errors.Forbidden):
        await sp.b.knowledge.start_research(ResearchRunCreate(topic="rate limiting", namespace=sp.ns()))
    run = await admin.knowledge.start_research(ResearchRunCreate(topic="rate limiting token bucket",
                                                                 namespace=sp.ns(), sources=sources, tags=["infra"]))
    assert not run.web_fetch and "does not fetch" in run.fetch_note and run.candidate_count == 4
    good, cats, bare, copy = run.candidates
    assert good.recommendation == "approve" and good.score == 1.0 and good.title == "Rate limiting algorithms"
    assert cats.recommendation == "reject" and cats.score == 0.0
    assert bare.status == "unfetched" and "cannot fetch the web" in bare.reasons[0]
    assert copy.duplicate_of == existing.id and copy.recommendation == "reject"
    result = await admin.knowledge.decide_research(run.id, ResearchBatch(approve=[good.id, bare.id],
                                                                         reject=[cats.id, "nope"]))
    assert result.approved == [good.id] and result.rejected == [cats.id]
    assert set(result.skipped) == {bare.id, "nope"} and "no content" in result.skipped[bare.id]
    entry = await sp.b.knowledge.get(result.entry_ids[0])
    assert set(entry.tags) == {"infra", "web-research"} and "sliding window" in entry.body.lower()
    files = {f.filename: f for f in (await sp.b.knowledge.list_files(namespace=sp.ns())).items}
    assert files["example.org-rate-limits.md"].source == "web_research"
    assert (await admin.knowledge.research_run(run.id)).pending_count == 1  # the copy, still undecided
    listed = (await admin.knowledge.research_runs(limit=200)).items
    mine = next(r for r in listed if r.id == run.id)
    assert mine.approved_count == 1 and mine.rejected_count == 1 and mine.candidates == []
    with pytest.raises(errors.Conflict):
        await admin.knowledge.decide_research(run.id, ResearchBatch(approve=[good.id]))
    with pytest.raises(errors.Invalid):
        await admin.knowledge.decide_research(run.id, ResearchBatch(approve=[copy.id], reject=[copy.id]))
    with pytest.raises(errors.NotFound):
        await admin.knowledge.research_run("01ARZ3NDEKTSV4RRFFQ69G5FAV")
