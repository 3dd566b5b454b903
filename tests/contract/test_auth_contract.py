"""Authentication and API keys, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.local.tables import UserRow
from crewos_tui.backend.schemas import ApiKeyCreate

from ..conftest import PASSWORD


async def test_login_returns_a_token_pair(world):
    user = await world.user()
    pair = await world.anonymous().auth.login(user.username, PASSWORD)
    assert pair.token_type == "bearer"
    assert pair.expires_in > 0
    assert pair.access_token.count(".") == 2  # a JWT
    assert len(pair.refresh_token) >= 32


async def test_login_with_a_wrong_password_or_unknown_user_is_unauthorized(world):
    user = await world.user()
    with pytest.raises(errors.Unauthorized, match="invalid username or password"):
        await world.anonymous().auth.login(user.username, "wrong password")
    with pytest.raises(errors.Unauthorized, match="invalid username or password"):
        await world.anonymous().auth.login("nobody-at-all", PASSWORD)


async def test_failed_logins_throttle_the_account_with_the_wrong_password_answer(world):
    user = await world.user()
    anon = world.anonymous()
    for _ in range(world.services.ctx.settings.max_failed_logins):
        with pytest.raises(errors.Unauthorized) as wrong:
            await anon.auth.login(user.username, "nope")
    # Throttled: even the right password gets exactly the wrong password's answer, and so
    # does a user that does not exist. Nothing names the account or says it waits.
    with pytest.raises(errors.Unauthorized) as throttled:
        await anon.auth.login(user.username, PASSWORD)
    with pytest.raises(errors.Unauthorized) as unknown:
        await anon.auth.login(f"nobody-{user.username}", PASSWORD)
    assert str(throttled.value) == str(wrong.value) == str(unknown.value)
    assert "invalid username or password" in str(throttled.value)
    assert user.username not in str(throttled.value) and "lock" not in str(throttled.value)
    # The wait ends (moved into the past in the database: the live server runs on the real clock).
    async with world.services.ctx.db.transaction() as s:
        row = await s.get(UserRow, user.id)
        assert row.locked_until is not None
        row.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    assert (await anon.auth.login(user.username, PASSWORD)).access_token


async def test_refresh_rotates_and_the_old_token_stops_working(world):
    user = await world.user()
    anon = world.anonymous()
    first = await anon.auth.login(user.username, PASSWORD)
    signed_in = await world.interactive(user)
    second = await signed_in.auth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    with pytest.raises(errors.Unauthorized):
        await signed_in.auth.refresh(first.refresh_token)


async def test_logout_revokes_the_refresh_token(world):
    user = await world.user()
    pair = await world.anonymous().auth.login(user.username, PASSWORD)
    signed_in = await world.interactive(user)
    result = await signed_in.auth.logout(pair.refresh_token)
    assert result.revoked == 1
    with pytest.raises(errors.Unauthorized):
        await signed_in.auth.refresh(pair.refresh_token)


async def test_logout_all_revokes_every_session(world):
    user = await world.user()
    anon = world.anonymous()
    pairs = [await anon.auth.login(user.username, PASSWORD) for _ in range(2)]
    signed_in = await world.interactive(user)
    result = await signed_in.auth.logout_all()
    assert result.revoked >= 2
    for pair in pairs:
        with pytest.raises(errors.Unauthorized):
            await anon.auth.refresh(pair.refresh_token)


async def test_me_describes_the_caller(world):
    user = await world.user(role="member", team="ops")
    me = await (await world.as_(user)).auth.me()
    assert (me.id, me.username, me.team, me.role.value) == (user.id, user.username, "ops", "member")
    assert me.auth_method == "api_key"
    assert me.namespace_grants == []


async def test_api_key_lifecycle(world):
    user = await world.user()
    signed_in = await world.interactive(user)
    created = await signed_in.auth.create_api_key(ApiKeyCreate(name="ci bot", scopes=["read"]))
    assert created.key.startswith(f"crewos_{created.prefix}_")
    assert len(created.prefix) == 8 and created.scopes == ["read"]
    listed = await signed_in.auth.list_api_keys()
    mine = [k for k in listed.items if k.id == created.id]
    assert mine and mine[0].name == "ci bot"
    assert "key" not in mine[0].model_dump()
    # The key authenticates ...
    if world.kind == "remote":
        from crewos_tui.backend.remote import RemoteBackend

        async with RemoteBackend(world.url, created.key) as via_key:
            assert (await via_key.auth.me()).id == user.id
    # ... until it is revoked.
    revoked = await signed_in.auth.revoke_api_key(created.id)
    assert revoked.revoked_at is not None
    with pytest.raises(errors.Unauthorized, match="revoked"):
        await world.services.auth.authenticate_api_key(created.key)
    with pytest.raises(errors.Conflict):
        await signed_in.auth.revoke_api_key(created.id)


async def test_api_key_credentials_cannot_manage_keys(world):
    user = await world.user()
    via_key = await world.as_(user)
    with pytest.raises(errors.Forbidden):
        await via_key.auth.list_api_keys()
    with pytest.raises(errors.Forbidden):
        await via_key.auth.create_api_key(ApiKeyCreate(name="another"))


async def test_duplicate_active_key_names_conflict_and_past_expiry_is_invalid(world):
    user = await world.user()
    signed_in = await world.interactive(user)
    await signed_in.auth.create_api_key(ApiKeyCreate(name="laptop"))
    with pytest.raises(errors.Conflict, match="laptop"):
        await signed_in.auth.create_api_key(ApiKeyCreate(name="laptop"))
    with pytest.raises(errors.Invalid, match="future"):
        await signed_in.auth.create_api_key(
            ApiKeyCreate(name="old", expires_at=datetime.now(UTC) - timedelta(days=1)))


async def test_revoking_someone_elses_key_is_not_found(world):
    alice, bob = await world.user(), await world.user()
    key = await (await world.interactive(alice)).auth.create_api_key(ApiKeyCreate(name="alice's"))
    with pytest.raises(errors.NotFound):
        await (await world.interactive(bob)).auth.revoke_api_key(key.id)


async def test_read_only_key_cannot_write(world):
    user = await world.user()
    reader = await world.as_(user, scopes=["read"])
    await reader.projects.list()
    if world.kind == "remote":  # scopes are enforced where the HTTP method is known
        from crewos_tui.backend.schemas import ProjectCreate

        with pytest.raises(errors.Forbidden):
            await reader.projects.create(ProjectCreate(name="nope"))


async def test_sso_providers_is_an_empty_page_by_default(world):
    page = await world.anonymous().auth.sso_providers()
    assert page.items == [] and page.next_cursor is None


async def test_health(world):
    backend = world.anonymous()
    live = await backend.health.live()
    assert live.status == "ok" and live.version
    ready = await backend.health.ready()
    assert ready.status == "ready" and ready.schema_version == ready.expected_schema_version
