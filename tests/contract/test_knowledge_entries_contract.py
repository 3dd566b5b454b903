"""Knowledge namespaces and entries on both backends: grants, CRUD, versions, filters."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import KnowledgeEntryCreate, KnowledgeEntryUpdate

from .knowledge_support import TEAM, kb_user, space


async def test_namespaces_follow_the_callers_grants(world):
    sp = await space(world)
    await sp.entry("Alpha", "first", ns="a")
    await sp.entry("Beta", "second", ns="a")
    literal = f"{sp.prefix}-exact"
    user = await kb_user(world, [f"{sp.prefix}/*", literal])
    b = await world.as_(user)
    names = {n.name: n for n in (await b.knowledge.namespaces(limit=200)).items}
    assert names[sp.ns("a")].entry_count == 2 and names[sp.ns("a")].can_write
    assert names[literal].exists is False and names[literal].entry_count == 0  # granted, unused
    assert not any("*" in n for n in names)
    stranger = await world.as_(await kb_user(world, ["elsewhere/*"]))
    assert sp.ns("a") not in {n.name for n in (await stranger.knowledge.namespaces(limit=200)).items}
    admin = await world.as_(await world.user(role="admin", team=TEAM))
    assert sp.ns("a") in {n.name for n in (await admin.knowledge.namespaces(limit=200)).items}


async def test_namespaces_page(world):
    sp = await space(world)
    for name in ("n1", "n2", "n3"):
        await sp.entry(f"In {name}", ns=name)
    first = await sp.b.knowledge.namespaces(limit=2)
    assert len(first.items) == 2 and first.next_cursor
    rest = await sp.b.knowledge.namespaces(limit=2, cursor=first.next_cursor)
    assert [n.name for n in first.items + rest.items] == [sp.ns("n1"), sp.ns("n2"), sp.ns("n3")]


async def test_create_get_update_keeps_versions_and_delete(world):
    sp = await space(world)
    e = await sp.entry("Release checklist", "1. tag\n2. build", tags=["Release", "ops", "ops"])
    assert e.version == 1 and e.tags == ["release", "ops"] and e.namespace == sp.ns()
    assert e.created_by == sp.user.username and e.body.startswith("1. tag")
    got = await sp.b.knowledge.get(e.id)
    assert got.title == "Release checklist" and got.versions == []
    up = await sp.b.knowledge.update(e.id, KnowledgeEntryUpdate(body="1. tag\n2. build\n3. announce",
                                                                 expected_version=1))
    assert up.version == 2 and [v.version for v in up.versions] == [1]
    old = await sp.b.knowledge.get(e.id, version=1)
    assert old.body == "1. tag\n2. build" and old.version == 1
    with pytest.raises(errors.Conflict, match="version 2"):
        await sp.b.knowledge.update(e.id, KnowledgeEntryUpdate(title="Lost update", expected_version=1))
    with pytest.raises(errors.Invalid):
        await sp.b.knowledge.update(e.id, KnowledgeEntryUpdate())
    with pytest.raises(errors.NotFound):
        await sp.b.knowledge.get(e.id, version=9)
    # visibility and status change without a new version
    hidden = await sp.b.knowledge.update(e.id, KnowledgeEntryUpdate(visibility="hidden"))
    assert hidden.version == 2 and hidden.visibility == "hidden"
    assert (await sp.b.knowledge.delete(e.id)).deleted
    with pytest.raises(errors.NotFound):
        await sp.b.knowledge.get(e.id)


async def test_grants_decide_who_reads_and_writes(world):
    sp = await space(world)
    e = await sp.entry("Secret plan", "only for the space")
    other = await world.as_(await kb_user(world, ["elsewhere/*"]))
    with pytest.raises(errors.Forbidden, match="grants"):
        await other.knowledge.create(KnowledgeEntryCreate(namespace=sp.ns(), title="Intruder"))
    for call in (other.knowledge.get(e.id), other.knowledge.update(e.id, KnowledgeEntryUpdate(title="x")),
                 other.knowledge.delete(e.id), other.knowledge.list(namespace=sp.ns())):
        with pytest.raises(errors.NotFound):
            await call
    viewer = await world.as_(await kb_user(world, [f"{sp.prefix}/*"], role="viewer"))
    assert (await viewer.knowledge.get(e.id)).title == "Secret plan"
    with pytest.raises(errors.Forbidden, match="viewers"):
        await viewer.knowledge.update(e.id, KnowledgeEntryUpdate(title="x"))
    # Moving an entry to a namespace outside one's grants is refused too.
    with pytest.raises(errors.Forbidden):
        await sp.b.knowledge.update(e.id, KnowledgeEntryUpdate(namespace="elsewhere/x"))
    assert (await sp.b.knowledge.update(e.id, KnowledgeEntryUpdate(namespace=sp.ns("moved")))).namespace == \
        sp.ns("moved")


async def test_list_filters_and_pages(world):
    sp = await space(world)
    a = await sp.entry("Deploy guide", "steps", tags=["ops"])
    b = await sp.entry("Design notes", "ideas", tags=["design"])
    c = await sp.entry("Deploy rollback", "undo", tags=["ops"], ns="other")

    def ids(page):
        return [x.id for x in page.items]

    assert ids(await sp.b.knowledge.list(namespace=sp.ns())) == [b.id, a.id]  # newest first
    assert set(ids(await sp.b.knowledge.list(tag="ops", limit=200))) >= {a.id, c.id}
    assert b.id not in ids(await sp.b.knowledge.list(tag="ops", limit=200))
    assert ids(await sp.b.knowledge.list(namespace=sp.ns(), q="deploy")) == [a.id]
    await sp.b.knowledge.update(a.id, KnowledgeEntryUpdate(status="archived"))
    assert ids(await sp.b.knowledge.list(namespace=sp.ns(), status="archived")) == [a.id]
    first = await sp.b.knowledge.list(namespace=sp.ns(), limit=1)
    second = await sp.b.knowledge.list(namespace=sp.ns(), limit=1, cursor=first.next_cursor)
    assert ids(first) == [b.id] and ids(second) == [a.id] and second.next_cursor is None
    with pytest.raises(errors.Invalid):
        await sp.b.knowledge.list(cursor="not-a-cursor")
