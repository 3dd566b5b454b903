"""LLM config, model catalog, token budgets (enforced by chat), usage summary, the
semantic cache (used by chat) and queue stats, on both backends.

Shared settings (routes, budgets, cache switch) are put back after each test: the
remote world's server database is shared by every test in the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError
from pydantic import SecretStr

from crewos_tui.backend import errors
from crewos_tui.backend.local.services.admin.llm import llm_route_for
from crewos_tui.backend.local.services.admin.llm_secrets import KEYRING_SERVICE
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import (
    CacheInvalidate,
    LlmConfigUpdate,
    LlmRouteUpdate,
    ProjectCreate,
    ProjectUpdate,
    TeamBudgetUpdate,
    TokenBudgetUpdate,
    UserBudgetUpdate,
)

from ..conftest import unique


async def new_user(world, role: str = "member", team: str | None = None, **kw):
    """A user in a team of its own unless one is given: the live server's database is
    shared by every contract test, and its "default" team must not fill up."""
    return await world.user(role=role, team=team or unique("adm-team-"), **kw)

SECRET = "sk-test-secret-0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


async def admin_backend(world):
    return await world.as_(await new_user(world, role="admin"))


def stored_bytes(world) -> bytes:
    path = world.services.ctx.db.path
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


# ---- LLM config and catalog -----------------------------------------------------------------------


async def test_llm_routes_keep_the_key_in_the_keyring_not_the_database(world, memory_keyring):
    admin = await admin_backend(world)
    before = await admin.admin.get_llm_config()
    try:
        cfg = await admin.admin.update_llm_config(LlmConfigUpdate(routes=[
            LlmRouteUpdate(agent="Reporter", provider="openai_compatible", base_url="http://127.0.0.1:9/v1/",
                           model="gpt-4o-mini", api_key=SecretStr(SECRET)),
            LlmRouteUpdate(agent="planner", provider="openai_compatible", base_url="https://llm.example/v1",
                           model="local-model", api_key_env="CREWOS_TEST_LLM_KEY"),
            LlmRouteUpdate(agent="*", provider="builtin"),
        ], cache_ttl_seconds=3600))
        routes = {r.agent: r for r in cfg.routes}
        assert routes["reporter"].secret_source == "keyring" and routes["reporter"].base_url == "http://127.0.0.1:9/v1"
        assert routes["planner"].secret_source == "env" and routes["*"].provider == "builtin"
        assert cfg.cache_ttl_seconds == 3600
        assert SECRET not in cfg.model_dump_json()
        assert memory_keyring.entries[(KEYRING_SERVICE, "reporter")] == SECRET
        assert SECRET.encode() not in stored_bytes(world)  # not in the database file nor its WAL
        audit = (await admin.admin.list_audit_events(action="llm_config.updated", limit=1)).items[0]
        assert SECRET not in audit.model_dump_json()

        # The router chat uses finds the endpoint and its key.
        async with world.services.ctx.db.read() as s:
            endpoint = await llm_route_for(world.services.ctx, s, Principal.system(), "reporter")
            assert (endpoint.base_url, endpoint.model, endpoint.api_key) == ("http://127.0.0.1:9/v1", "gpt-4o-mini",
                                                                            SECRET)
            assert await llm_route_for(world.services.ctx, s, Principal.system(), "helper") is None  # "*": builtin

        catalog = {m.id: m for m in (await admin.admin.list_model_catalog(limit=200)).items}
        assert catalog["gpt-4o-mini"].used_by == ["reporter"] and catalog["gpt-4o-mini"].context_window
        assert catalog["local-model"].used_by == ["planner"]
        assert {"builtin/helper", "builtin/planner", "builtin/reporter"} <= set(catalog)
        first = await admin.admin.list_model_catalog(limit=2)
        assert len(first.items) == 2 and first.next_cursor

        # Dropping the route deletes its key from the keyring.
        await admin.admin.update_llm_config(LlmConfigUpdate(routes=[]))
        assert (KEYRING_SERVICE, "reporter") not in memory_keyring.entries
    finally:
        await admin.admin.update_llm_config(LlmConfigUpdate(routes=[], cache_ttl_seconds=before.cache_ttl_seconds))


@pytest.mark.parametrize(("route", "match"), [
    ({"agent": "reporter", "provider": "openai_compatible", "base_url": "http://x/v1"}, r"routes\[0\]\.model"),
    ({"agent": "reporter", "provider": "openai_compatible", "base_url": "ftp://x", "model": "m"},
     r"routes\[0\]\.base_url"),
    ({"agent": "reporter", "provider": "builtin", "model": "m"}, r"routes\[0\]\.model only applies"),
    ({"agent": "reporter", "provider": "openai_compatible", "base_url": "http://x", "model": "m",
      "api_key_env": "not a name"}, r"routes\[0\]\.api_key_env"),
])
async def test_llm_config_refuses_bad_routes(world, route, match):
    admin = await admin_backend(world)
    before = await admin.admin.get_llm_config()
    with pytest.raises(errors.Invalid, match=match):
        await admin.admin.update_llm_config(LlmConfigUpdate(routes=[LlmRouteUpdate(**route)]))
    assert (await admin.admin.get_llm_config()).routes == before.routes


async def test_llm_config_other_bad_input(world):
    admin = await admin_backend(world)
    with pytest.raises(errors.NotFound, match="agent 'nobody'"):
        await admin.admin.update_llm_config(LlmConfigUpdate(routes=[LlmRouteUpdate(agent="nobody")]))
    with pytest.raises(errors.Invalid, match="more than once"):
        await admin.admin.update_llm_config(LlmConfigUpdate(routes=[LlmRouteUpdate(agent="helper"),
                                                                    LlmRouteUpdate(agent="HELPER")]))
    with pytest.raises(errors.Invalid, match="cache_ttl_seconds"):
        await admin.admin.update_llm_config(LlmConfigUpdate(cache_ttl_seconds=5))
    with pytest.raises(errors.Invalid, match="nothing to update"):
        await admin.admin.update_llm_config(LlmConfigUpdate())


async def test_without_a_usable_keyring_the_key_is_refused_and_nothing_is_stored(world):
    admin = await admin_backend(world)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(errors.Unavailable, match="api_key_env"):
            await admin.admin.update_llm_config(LlmConfigUpdate(routes=[LlmRouteUpdate(
                agent="helper", provider="openai_compatible", base_url="http://x/v1", model="m",
                api_key=SecretStr(SECRET))]))
    finally:
        keyring.set_keyring(previous)
    assert all(r.agent != "helper" for r in (await admin.admin.get_llm_config()).routes)


# ---- token budgets, enforcement, usage ------------------------------------------------------------------


async def test_token_budget_update_and_validation(world):
    admin = await admin_backend(world)
    team = unique("budget")
    user = await new_user(world, team=team)
    before = await admin.admin.get_token_budget()
    try:
        saved = await admin.admin.update_token_budget(TokenBudgetUpdate(
            teams=[TeamBudgetUpdate(team=team, daily_tokens=1000)],
            users=[UserBudgetUpdate(user_id=user.id, daily_tokens=0)], user_daily_default=50_000))
        assert [(t.team, t.daily_tokens) for t in saved.teams] == [(team, 1000)]
        assert [(u.user_id, u.username, u.daily_tokens) for u in saved.users] == [(user.id, user.username, 0)]
        assert saved.user_daily_default == 50_000 and saved.enabled
        for bad, match in [
            (TokenBudgetUpdate(team_daily_default=-1), "team_daily_default must not be negative"),
            (TokenBudgetUpdate(teams=[TeamBudgetUpdate(team=team, daily_tokens=-5)]), r"teams\[0\]\.daily_tokens"),
            (TokenBudgetUpdate(users=[UserBudgetUpdate(user_id=user.id, daily_tokens=-1)]),
             r"users\[0\]\.daily_tokens"),
        ]:
            with pytest.raises(errors.Invalid, match=match):
                await admin.admin.update_token_budget(bad)
        with pytest.raises(errors.NotFound, match="team"):
            await admin.admin.update_token_budget(TokenBudgetUpdate(
                teams=[TeamBudgetUpdate(team=unique("ghost"), daily_tokens=1)]))
        with pytest.raises(errors.NotFound, match="user"):
            await admin.admin.update_token_budget(TokenBudgetUpdate(
                users=[UserBudgetUpdate(user_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", daily_tokens=1)],
                user_daily_default=1))
        # Nothing half-written by the refused updates.
        again = await admin.admin.get_token_budget()
        assert again.user_daily_default == 50_000 and [t.daily_tokens for t in again.teams] == [1000]
        cleared = await admin.admin.update_token_budget(TokenBudgetUpdate(clear_user_daily_default=True))
        assert cleared.user_daily_default is None
    finally:
        await restore_budget(admin, before)


async def restore_budget(admin, before) -> None:
    await admin.admin.update_token_budget(TokenBudgetUpdate(
        enabled=before.enabled,
        teams=[TeamBudgetUpdate(team=t.team, daily_tokens=t.daily_tokens) for t in before.teams],
        users=[UserBudgetUpdate(user_id=u.user_id, daily_tokens=u.daily_tokens) for u in before.users],
        **({"team_daily_default": before.team_daily_default} if before.team_daily_default is not None
           else {"clear_team_daily_default": True}),
        **({"user_daily_default": before.user_daily_default} if before.user_daily_default is not None
           else {"clear_user_daily_default": True}),
    ))


async def test_chat_over_budget_is_refused_and_usage_is_summarised(world):
    admin = await admin_backend(world)
    team = unique("usage")
    user = await new_user(world, team=team)
    member = await world.as_(user)
    before = await admin.admin.get_token_budget()
    try:
        await admin.admin.update_token_budget(TokenBudgetUpdate(
            users=[*(UserBudgetUpdate(user_id=u.user_id, daily_tokens=u.daily_tokens) for u in before.users),
                   UserBudgetUpdate(user_id=user.id, daily_tokens=10)]))
        reply = await member.chat.send("what can you do", agent="helper")  # ~4 tokens in: allowed
        spent = reply.usage.tokens_in + reply.usage.tokens_out
        assert spent > 10
        with pytest.raises(errors.RateLimited, match="daily token budget is used up") as refused:
            await member.chat.send("what can you do", agent="helper")
        assert f"{spent} of 10" in str(refused.value)
        summary = await admin.admin.llm_usage_summary(days=3, team=team)
        assert (summary.runs, summary.tokens_in, summary.tokens_out) == (1, reply.usage.tokens_in,
                                                                         reply.usage.tokens_out)
        assert len(summary.by_day) == 3 and summary.by_day[-1].runs == 1 and summary.by_day[0].runs == 0
        assert [(b.key, b.runs) for b in summary.by_agent] == [("helper", 1)]
        assert [(b.key, b.label) for b in summary.by_user] == [(user.id, user.username)]
        assert [b.key for b in summary.by_team] == [team]
        earlier = await admin.admin.llm_usage_summary(days=2, team=team, until=summary.since - timedelta(days=1))
        assert earlier.runs == 0 and earlier.until == summary.since - timedelta(days=1)
        assert earlier.last_usage_day == summary.until  # so a screen can show when use last happened
        # A team budget applies to everyone in the team.
        await admin.admin.update_token_budget(TokenBudgetUpdate(
            users=[UserBudgetUpdate(user_id=u.user_id, daily_tokens=u.daily_tokens) for u in before.users],
            teams=[*(TeamBudgetUpdate(team=t.team, daily_tokens=t.daily_tokens) for t in before.teams),
                   TeamBudgetUpdate(team=team, daily_tokens=spent)]))
        teammate = await world.as_(await new_user(world, team=team))
        with pytest.raises(errors.RateLimited, match=f"team '{team}'"):
            await teammate.chat.send("hello", agent="helper")
        # Switching enforcement off lets runs through again.
        await admin.admin.update_token_budget(TokenBudgetUpdate(enabled=False))
        assert (await teammate.chat.send("hello", agent="helper")).content
    finally:
        await restore_budget(admin, before)
    with pytest.raises(errors.Invalid, match="days"):
        await admin.admin.llm_usage_summary(days=0)


# ---- the semantic cache ------------------------------------------------------------------------------------


async def test_chat_uses_the_cache_until_the_project_data_changes(world):
    admin = await admin_backend(world)
    owner = await world.as_(await new_user(world))
    project = await owner.projects.create(ProjectCreate(name=unique("Cached ")))
    before = await admin.admin.get_llm_config()
    stats0 = await admin.admin.cache_stats()
    try:
        assert (await admin.admin.update_llm_config(LlmConfigUpdate(cache_enabled=True))).cache_enabled
        first = await owner.chat.send("Prepare the project update", project_id=project.id, agent="reporter")
        second = await owner.chat.send("  prepare the PROJECT update! ", project_id=project.id, agent="reporter")
        assert not first.cached and second.cached and second.content == first.content
        assert second.usage.tokens_in == second.usage.tokens_out == 0
        stats = await admin.admin.cache_stats()
        assert stats.enabled and stats.hits == stats0.hits + 1 and stats.misses == stats0.misses + 1
        assert stats.entries >= 1 and stats.bytes >= len(first.content.encode())
        assert 0 < stats.hit_rate <= 1
        reporter = {a.agent: a for a in stats.by_agent}["reporter"]
        assert reporter.hits >= 1 and reporter.entries >= 1

        await owner.projects.update(project.id, ProjectUpdate(description="new facts"))  # a data change
        third = await owner.chat.send("Prepare the project update", project_id=project.id, agent="reporter")
        assert not third.cached

        removed = await admin.admin.invalidate_cache(CacheInvalidate(project_id=project.id))
        assert removed.removed == 2 and removed.project_id == project.id  # before and after the change
        assert not (await owner.chat.send("Prepare the project update", project_id=project.id,
                                          agent="reporter")).cached
        with pytest.raises(errors.NotFound, match="agent"):
            await admin.admin.invalidate_cache(CacheInvalidate(agent="nobody"))
        with pytest.raises(errors.NotFound, match="project"):
            await admin.admin.invalidate_cache(CacheInvalidate(project_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
        by_agent = await admin.admin.invalidate_cache(CacheInvalidate(agent="reporter"))
        assert by_agent.removed >= 1 and by_agent.agent == "reporter"
        everything = await admin.admin.invalidate_cache(CacheInvalidate())
        assert everything.agent is None and (await admin.admin.cache_stats()).entries == 0
    finally:
        await admin.admin.update_llm_config(LlmConfigUpdate(cache_enabled=before.cache_enabled))


async def test_cache_is_off_by_default_and_then_unused(world):
    admin = await admin_backend(world)
    assert not (await admin.admin.get_llm_config()).cache_enabled
    owner = await world.as_(await new_user(world))
    project = await owner.projects.create(ProjectCreate(name=unique("Uncached ")))
    for _ in range(2):
        assert not (await owner.chat.send("status", project_id=project.id, agent="reporter")).cached


# ---- queue stats ---------------------------------------------------------------------------------------------


async def test_queue_stats_count_agent_jobs(world):
    from crewos_tui.backend.schemas import AgentJobCreate

    admin = await admin_backend(world)
    owner_user = await new_user(world)
    owner = await world.as_(owner_user)
    project = await owner.projects.create(ProjectCreate(name=unique("Queue ")))
    before = await admin.admin.queue_stats()
    assert before.source == "ok"
    job = await owner.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=project.id))
    stats = await admin.admin.queue_stats()
    assert stats.total == before.total + 1
    assert stats.by_state.get("queued", 0) == before.by_state.get("queued", 0) + 1
    kinds = {k.kind: k.by_state for k in stats.by_kind}
    assert kinds["project_update"].get("queued", 0) >= 1
    assert stats.oldest_queued_at is not None and stats.oldest_queued_age_seconds >= 0
    await owner.agent_jobs.cancel(job.id)
    after = await admin.admin.queue_stats()
    assert after.by_state.get("queued", 0) == before.by_state.get("queued", 0)
