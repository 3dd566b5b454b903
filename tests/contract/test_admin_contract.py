"""Admin automation on both backends: the admin-only rule for all 23 endpoints, users,
agent namespace policies, team tool configs, pipeline policy and prompt standards.

The remote world shares one served database across tests, so tests use their own
users and teams and put shared settings back when they change them.
"""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import (
    AgentNamespacePolicyUpdate,
    CacheInvalidate,
    LlmConfigUpdate,
    PipelinePolicyUpdate,
    PromptStandardUpsert,
    TeamToolConfigUpdate,
    TokenBudgetUpdate,
    UserUpdate,
    ValidationRequest,
)

from ..conftest import PASSWORD, unique


async def new_user(world, role: str = "member", team: str | None = None, **kw):
    """A user in a team of its own unless one is given: the live server's database is
    shared by every contract test, and its "default" team must not fill up."""
    return await world.user(role=role, team=team or unique("adm-team-"), **kw)

FAKE_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

#: Every Admin Automation endpoint as a backend call: (method, args).
ADMIN_CALLS = [
    ("list_users", ()),
    ("update_user", (FAKE_ID, UserUpdate(role="member"))),
    ("unlock_user", (FAKE_ID,)),
    ("list_agent_namespace_policies", ()),
    ("update_agent_namespace_policy", ("helper", AgentNamespacePolicyUpdate(read=["*"]))),
    ("list_tool_configs", ()),
    ("update_tool_config", ("default", TeamToolConfigUpdate())),
    ("get_llm_config", ()),
    ("update_llm_config", (LlmConfigUpdate(cache_enabled=False),)),
    ("list_model_catalog", ()),
    ("get_token_budget", ()),
    ("update_token_budget", (TokenBudgetUpdate(enabled=True),)),
    ("llm_usage_summary", ()),
    ("cache_stats", ()),
    ("invalidate_cache", (CacheInvalidate(),)),
    ("queue_stats", ()),
    ("list_audit_events", ()),
    ("export_audit_csv", ()),
    ("audit_integrity", ()),
    ("get_pipeline_policy", ()),
    ("update_pipeline_policy", (PipelinePolicyUpdate(max_retries=2),)),
    ("list_prompt_standards", ()),
    ("upsert_prompt_standard", ("helper", PromptStandardUpsert())),
]


def test_the_call_list_covers_the_whole_group():
    from crewos_tui.backend.protocol.admin import AdminAPI

    declared = {n for n in vars(AdminAPI) if not n.startswith("_") and callable(getattr(AdminAPI, n))}
    assert {name for name, _ in ADMIN_CALLS} == declared
    assert len(ADMIN_CALLS) == 23


@pytest.mark.parametrize(("method", "args"), ADMIN_CALLS, ids=[c[0] for c in ADMIN_CALLS])
async def test_every_admin_endpoint_refuses_non_admins(world, method, args):
    before = (await world.services.admin.audit_integrity(Principal.system())).head_seq
    for role in ("member", "viewer"):
        backend = await world.as_(await new_user(world, role=role))
        with pytest.raises(errors.Forbidden, match="admin"):
            await getattr(backend.admin, method)(*args)
    with pytest.raises(errors.Unauthorized):
        await getattr(world.anonymous().admin, method)(*args)
    # Refused calls change nothing: the only new audit events are the test's own setup
    # (two users and their API keys).
    after = await world.services.admin.list_audit_events(Principal.system(), limit=10)
    assert {e.action for e in after.items if e.seq > before} <= {"user.created", "api_key.created"}


# ---- users ------------------------------------------------------------------------------------------


async def admin_backend(world):
    return await world.as_(await new_user(world, role="admin"))


async def test_list_users_filters_and_pages(world):
    admin = await admin_backend(world)
    team = unique("team")
    made = [await new_user(world, team=team, username=unique("zed")) for _ in range(3)]
    viewer = await new_user(world, team=team, role="viewer", username=unique("zed"))
    page = await admin.admin.list_users(team=team, limit=2)
    assert len(page.items) == 2 and page.next_cursor
    rest = await admin.admin.list_users(team=team, limit=2, cursor=page.next_cursor)
    got = [u.id for u in page.items + rest.items]
    assert got == sorted(u.id for u in [*made, viewer]) and rest.next_cursor is None
    assert [u.id for u in (await admin.admin.list_users(team=team, role="viewer")).items] == [viewer.id]
    assert [u.id for u in (await admin.admin.list_users(q=viewer.username.upper())).items] == [viewer.id]
    assert (await admin.admin.list_users(team=team, disabled=True)).items == []
    with pytest.raises(errors.Invalid, match="role"):
        await admin.admin.list_users(role="wizard")
    with pytest.raises(errors.Invalid):
        await admin.admin.list_users(limit=0)


async def test_update_user_role_team_grants_and_disable(world):
    admin = await admin_backend(world)
    user = await new_user(world)
    member = await world.as_(user)
    updated = await admin.admin.update_user(user.id, UserUpdate(role="viewer", team=unique("t"),
                                                                 namespace_grants=["proj:*", " kb ", "kb"]))
    assert updated.role == "viewer" and updated.namespace_grants == ["proj:*", "kb"]
    assert (await member.auth.me()).role == "viewer"  # takes effect on the next call
    disabled = await admin.admin.update_user(user.id, UserUpdate(disabled=True))
    assert disabled.disabled
    with pytest.raises(errors.Forbidden, match="disabled"):
        await world.services.auth.principal_for(user.username)
    if world.kind == "remote":  # the server checks the key on every request
        with pytest.raises(errors.Unauthorized, match="disabled"):
            await member.auth.me()
    # An update that changes nothing is not a change: no audit event.
    seq = (await admin.admin.audit_integrity()).head_seq
    await admin.admin.update_user(user.id, UserUpdate(disabled=True))
    assert (await admin.admin.audit_integrity()).head_seq == seq


async def test_update_user_bad_input(world):
    admin = await admin_backend(world)
    user = await new_user(world)
    with pytest.raises(errors.NotFound):
        await admin.admin.update_user(FAKE_ID, UserUpdate(role="member"))
    with pytest.raises(errors.Invalid, match="nothing to update"):
        await admin.admin.update_user(user.id, UserUpdate())
    with pytest.raises(errors.Invalid, match="namespace_grants"):
        await admin.admin.update_user(user.id, UserUpdate(namespace_grants=["no spaces allowed"]))
    with pytest.raises(errors.Invalid, match="team"):
        await admin.admin.update_user(user.id, UserUpdate(team="x" * 65))
    with pytest.raises(errors.Invalid, match="role"):
        await admin.admin.update_user(user.id, UserUpdate.model_construct(role="wizard"))
    # Nothing half-written: the user is unchanged.
    same = (await admin.admin.list_users(q=user.username)).items[0]
    assert (same.role, same.team, same.namespace_grants) == ("member", user.team, [])


async def test_the_last_active_admin_cannot_be_demoted(world):
    admin_user = await new_user(world, role="admin")
    admin = await world.as_(admin_user)
    others = [u for u in (await admin.admin.list_users(role="admin", disabled=False, limit=200)).items
              if u.id != admin_user.id]
    if world.kind == "local":  # a fresh database: this is the only admin
        assert others == []
        with pytest.raises(errors.Conflict, match="last active admin"):
            await admin.admin.update_user(admin_user.id, UserUpdate(role="member"))
        with pytest.raises(errors.Conflict, match="last active admin"):
            await admin.admin.update_user(admin_user.id, UserUpdate(disabled=True))
    second = await new_user(world, role="admin")
    demoted = await admin.admin.update_user(second.id, UserUpdate(role="member"))
    assert demoted.role == "member"


async def lock(world, username: str) -> None:
    for _ in range(world.services.ctx.settings.max_failed_logins):
        with pytest.raises(errors.Unauthorized):
            await world.services.auth.login(Principal.anonymous(), username, "wrong password!")


async def test_unlock_after_lockout(world):
    admin = await admin_backend(world)
    user = await new_user(world)
    await lock(world, user.username)
    locked = (await admin.admin.list_users(q=user.username, locked=True)).items
    assert [u.id for u in locked] == [user.id] and locked[0].locked_until is not None
    # Throttled: the right password gets the wrong password's answer.
    with pytest.raises(errors.Unauthorized, match=r"^invalid username or password$"):
        await world.anonymous().auth.login(user.username, PASSWORD)
    unlocked = await admin.admin.unlock_user(user.id)
    assert unlocked.locked_until is None and unlocked.failed_logins == 0
    assert (await world.anonymous().auth.login(user.username, PASSWORD)).access_token
    with pytest.raises(errors.Conflict, match="not locked"):
        await admin.admin.unlock_user(user.id)
    with pytest.raises(errors.NotFound):
        await admin.admin.unlock_user(FAKE_ID)


# ---- agent namespace policies and team tool configs --------------------------------------------------


async def test_agent_namespace_policies(world):
    admin = await admin_backend(world)
    listed = {p.agent: p for p in (await admin.admin.list_agent_namespace_policies()).items}
    assert {"helper", "planner", "reporter"} <= set(listed)
    saved = await admin.admin.update_agent_namespace_policy(
        "Reporter", AgentNamespacePolicyUpdate(read=["proj:*", "wiki"], write=[]))
    assert (saved.agent, saved.read, saved.write, saved.is_default) == ("reporter", ["proj:*", "wiki"], [], False)
    again = {p.agent: p for p in (await admin.admin.list_agent_namespace_policies()).items}["reporter"]
    assert again.read == ["proj:*", "wiki"] and again.updated_by
    page = await admin.admin.list_agent_namespace_policies(limit=1)
    assert len(page.items) == 1 and page.next_cursor
    with pytest.raises(errors.NotFound, match="agent"):
        await admin.admin.update_agent_namespace_policy("nobody", AgentNamespacePolicyUpdate())
    with pytest.raises(errors.Invalid, match="write"):
        await admin.admin.update_agent_namespace_policy("reporter", AgentNamespacePolicyUpdate(write=["bad name"]))
    assert {p.agent: p for p in (await admin.admin.list_agent_namespace_policies()).items}["reporter"].read == [
        "proj:*", "wiki"]


async def test_team_tool_configs(world):
    admin = await admin_backend(world)
    team = unique("crew")
    await new_user(world, team=team)
    listed = {c.team: c for c in (await admin.admin.list_tool_configs(limit=200)).items}
    assert listed[team].is_default and listed[team].allowed_agents is None and listed[team].user_count == 1
    saved = await admin.admin.update_tool_config(team, TeamToolConfigUpdate(allowed_agents=["Helper", "reporter"]))
    assert saved.allowed_agents == ["helper", "reporter"] and saved.allowed_tools is None and not saved.is_default
    with pytest.raises(errors.NotFound, match="team"):
        await admin.admin.update_tool_config(unique("ghost"), TeamToolConfigUpdate())
    with pytest.raises(errors.NotFound, match="agent"):
        await admin.admin.update_tool_config(team, TeamToolConfigUpdate(allowed_agents=["nobody"]))
    with pytest.raises(errors.Invalid, match="allowed_tools"):
        await admin.admin.update_tool_config(team, TeamToolConfigUpdate(allowed_tools=["no-such-tool"]))
    after = {c.team: c for c in (await admin.admin.list_tool_configs(limit=200)).items}[team]
    assert after.allowed_agents == ["helper", "reporter"]


async def test_team_tool_config_is_enforced_by_chat(world):
    admin = await admin_backend(world)
    team = unique("crew")
    user = await new_user(world, team=team)
    member = await world.as_(user)
    await admin.admin.update_tool_config(team, TeamToolConfigUpdate(allowed_agents=["helper"]))
    assert (await member.chat.send("what can you do", agent="helper")).content
    with pytest.raises(errors.Forbidden, match="may not use agent 'planner'"):
        await member.chat.send("plan the launch", agent="planner")
    # Tools are skills: allowing only the reporter's skills leaves the helper without any.
    await admin.admin.update_tool_config(team, TeamToolConfigUpdate(allowed_agents=None,
                                                                    allowed_tools=["project-update"]))
    with pytest.raises(errors.Forbidden, match="may not use any tool of agent 'helper'"):
        await member.chat.send("what can you do", agent="helper")
    assert (await member.chat.send("status report please", agent="reporter")).content


# ---- pipeline policy and prompt standards ----------------------------------------------------------------


async def test_pipeline_policy_read_update_and_validation(world):
    admin = await admin_backend(world)
    before = await admin.admin.get_pipeline_policy()
    try:
        updated = await admin.admin.update_pipeline_policy(PipelinePolicyUpdate(validation_threshold=85,
                                                                                require_review=False))
        assert updated.validation_threshold == 85 and updated.require_review is False
        assert updated.max_retries == before.max_retries and updated.updated_by
        assert (await admin.admin.get_pipeline_policy()).validation_threshold == 85
        for bad, field in [({"validation_threshold": 101}, "validation_threshold"),
                           ({"max_retries": -1}, "max_retries"),
                           ({"job_timeout_seconds": 1}, "job_timeout_seconds")]:
            with pytest.raises(errors.Invalid, match=field):
                await admin.admin.update_pipeline_policy(PipelinePolicyUpdate.model_construct(**bad))
        with pytest.raises(errors.Invalid, match="nothing to update"):
            await admin.admin.update_pipeline_policy(PipelinePolicyUpdate())
        assert (await admin.admin.get_pipeline_policy()).validation_threshold == 85
    finally:
        await admin.admin.update_pipeline_policy(PipelinePolicyUpdate(
            validation_threshold=before.validation_threshold, require_review=before.require_review))


async def test_prompt_standards(world):
    admin = await admin_backend(world)
    listed = {s.agent: s for s in (await admin.admin.list_prompt_standards()).items}
    assert {"helper", "planner", "reporter"} <= set(listed)
    try:
        saved = await admin.admin.upsert_prompt_standard("planner", PromptStandardUpsert(
            system_prompt="Plan in small steps.", required_sections=["Goal", "Steps", "goal"],
            forbidden_terms=["guaranteed"]))
        assert saved.required_sections == ["Goal", "Steps"] and saved.forbidden_terms == ["guaranteed"]
        assert {s.agent: s for s in (await admin.admin.list_prompt_standards()).items}["planner"].system_prompt == (
            "Plan in small steps.")
        with pytest.raises(errors.NotFound, match="agent"):
            await admin.admin.upsert_prompt_standard("nobody", PromptStandardUpsert())
        with pytest.raises(errors.Invalid, match="system_prompt"):
            await admin.admin.upsert_prompt_standard("planner", PromptStandardUpsert(system_prompt="x" * 9000))
        with pytest.raises(errors.Invalid, match="required_sections"):
            await admin.admin.upsert_prompt_standard("planner", PromptStandardUpsert(required_sections=[""]))
    finally:  # the remote world's database is shared: an empty standard is no standard
        await admin.admin.upsert_prompt_standard("planner", PromptStandardUpsert())


async def test_validation_applies_the_policy_and_the_agents_standard(world):
    admin = await admin_backend(world)
    before = await admin.admin.get_pipeline_policy()
    agent = "reporter"
    try:
        await admin.admin.update_pipeline_policy(PipelinePolicyUpdate(validation_threshold=88,
                                                                      enforce_prompt_standards=True))
        await admin.admin.upsert_prompt_standard(agent, PromptStandardUpsert(required_sections=["Risks"],
                                                                             forbidden_terms=["guaranteed"]))
        text = "## Summary\nShipping is guaranteed next week, as planned with the team.\n"
        result = await admin.validation.validate(ValidationRequest(output=text, agent=agent))
        failed = {f.check.value for f in result.findings if not f.passed}
        assert result.threshold == 88 and not result.passed and failed == {"required_sections", "forbidden_terms"}
        with pytest.raises(errors.NotFound, match="agent"):
            await admin.validation.validate(ValidationRequest(output=text, agent="nobody"))
    finally:
        await admin.admin.upsert_prompt_standard(agent, PromptStandardUpsert())
        await admin.admin.update_pipeline_policy(PipelinePolicyUpdate(
            validation_threshold=before.validation_threshold,
            enforce_prompt_standards=before.enforce_prompt_standards))
