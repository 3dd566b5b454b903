"""Agent discovery, on both backends."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors

#: Users of these tests live in their own team, so they do not crowd other tests' team lists
#: on the shared live server.
TEAM = "chat"


async def test_agents_list_and_get(world):
    b = await world.as_(await world.user(team=TEAM))
    page = await b.agents.list()
    names = [a.name for a in page.items]
    assert names == sorted(names) and {"helper", "planner", "reporter"} <= set(names)  # other slices add agents
    reporter = await b.agents.get("reporter")
    assert reporter.kind == "builtin" and reporter.streaming
    assert "project-update" in [s.id for s in reporter.skills]
    assert all(s.agent == "reporter" for s in reporter.skills)
    with pytest.raises(errors.NotFound, match="agent"):
        await b.agents.get("no-such-agent")


async def test_agents_page_by_cursor(world):
    b = await world.as_(await world.user(team=TEAM))
    first = await b.agents.list(limit=2)
    assert [a.name for a in first.items] == ["helper", "planner"] and first.next_cursor
    second = await b.agents.list(limit=2, cursor=first.next_cursor)
    assert second.items[0].name == "reporter"
    rest = [a.name for a in second.items]
    cursor = second.next_cursor
    while cursor:
        more = await b.agents.list(limit=2, cursor=cursor)
        rest += [a.name for a in more.items]
        cursor = more.next_cursor
    assert rest == sorted(set(rest)) and "helper" not in rest  # no repeats, nothing skipped
    with pytest.raises(errors.Invalid):
        await b.agents.list(cursor="not-a-cursor")


async def test_skills_list_get_and_discovery(world):
    b = await world.as_(await world.user(team=TEAM))
    skills = (await b.agents.list_skills()).items
    ids = [s.id for s in skills]
    assert ids == sorted(ids) and {"project-update", "task-breakdown", "workbench-help"} <= set(ids)
    one = await b.agents.get_skill("task-breakdown")
    assert one.agent == "planner" and one.name == "Task breakdown" and one.examples
    with pytest.raises(errors.NotFound):
        await b.agents.get_skill("nope")
    disco = await b.agents.skill_discovery()
    assert disco.default_agent == "helper" and "explicit agent wins" in disco.rule
    assert [r.agent for r in disco.routes] == ["planner", "reporter", "helper"]
    assert {s.id for s in disco.skills} == set(ids)


async def test_agent_card_authenticated_and_public(world):
    b = await world.as_(await world.user(team=TEAM))
    card = await b.agents.agent_card()
    assert card.name == "CrewOS" and card.streaming and card.version
    assert card.default_input_modes == ["text/plain"]
    assert {s.id for s in card.skills} >= {"project-update", "task-breakdown"}
    assert card.security_schemes["apiKey"]["name"] == "X-CrewOS-API-Key"
    assert card.url and card.url.endswith("/api/v1")
    public = await world.anonymous().agents.public_agent_card()
    assert public.name == card.name and [s.id for s in public.skills] == [s.id for s in card.skills]
    # The authenticated card needs credentials.
    with pytest.raises(errors.Unauthorized):
        await world.anonymous().agents.agent_card()
    with pytest.raises(errors.Unauthorized):
        await world.anonymous().agents.list()
