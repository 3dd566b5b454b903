"""Auth internals the contract tests cannot see: what is stored, expiry, reuse."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.local.tables import ApiKeyRow, RefreshTokenRow, UserRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ApiKeyCreate, UserCreate

from .conftest import PASSWORD


async def test_only_hashes_and_prefixes_are_stored(services, make_user):
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)
    created = await services.auth.create_api_key(me, ApiKeyCreate(name="k"))
    pair = await services.auth.login(Principal.anonymous(), user.username, PASSWORD)
    raw_db = services.ctx.db.path.read_bytes() + services.ctx.db.path.with_name("crewos.db-wal").read_bytes()
    assert created.key.encode() not in raw_db
    assert created.key.split("_", 2)[2].encode() not in raw_db
    assert pair.refresh_token.encode() not in raw_db
    assert PASSWORD.encode() not in raw_db
    async with services.ctx.db.read() as s:
        row = await s.get(ApiKeyRow, created.id)
        urow = await s.get(UserRow, user.id)
    assert row.prefix == created.prefix and len(row.key_hash) == 64
    assert urow.password_hash.startswith("scrypt$")


async def test_expired_api_keys_are_refused(services, make_user):
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)
    soon = services.ctx.clock.now() + timedelta(seconds=30)
    created = await services.auth.create_api_key(me, ApiKeyCreate(name="short", expires_at=soon))
    assert (await services.auth.authenticate_api_key(created.key)).user_id == user.id
    async with services.ctx.db.transaction() as s:
        row = await s.get(ApiKeyRow, created.id)
        row.expires_at = services.ctx.clock.now() - timedelta(seconds=1)
    with pytest.raises(errors.Unauthorized, match="expired"):
        await services.auth.authenticate_api_key(created.key)


@pytest.mark.parametrize("bad", ["", "crewos_", "crewos_short_x", "nope_abcdefgh_x", "crewos_abcdefgh_wrong"])
async def test_malformed_or_unknown_keys_are_unauthorized(services, bad):
    with pytest.raises(errors.Unauthorized):
        await services.auth.authenticate_api_key(bad)


async def test_api_key_use_is_recorded(services, make_user):
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)
    created = await services.auth.create_api_key(me, ApiKeyCreate(name="k"))
    await services.auth.authenticate_api_key(created.key)
    async with services.ctx.db.read() as s:
        assert (await s.get(ApiKeyRow, created.id)).last_used_at is not None


async def test_a_replayed_refresh_token_ends_the_whole_session(services, make_user):
    user, _ = await make_user()
    anon = Principal.anonymous()
    first = await services.auth.login(anon, user.username, PASSWORD)
    principal = await services.auth.authenticate_jwt(first.access_token)
    second = await services.auth.refresh(principal, first.refresh_token)
    with pytest.raises(errors.Unauthorized):
        await services.auth.refresh(principal, first.refresh_token)  # replay
    with pytest.raises(errors.Unauthorized):
        await services.auth.refresh(principal, second.refresh_token)  # the thief's copy is dead too
    with pytest.raises(errors.Unauthorized, match="session has ended"):
        await services.auth.authenticate_jwt(second.access_token)


async def test_logout_ends_the_access_token_at_once(services, make_user):
    user, _ = await make_user()
    pair = await services.auth.login(Principal.anonymous(), user.username, PASSWORD)
    principal = await services.auth.authenticate_jwt(pair.access_token)
    await services.auth.logout(principal)
    with pytest.raises(errors.Unauthorized):
        await services.auth.authenticate_jwt(pair.access_token)


async def test_jwt_expiry_and_tampering(services, make_user):
    user, _ = await make_user()
    pair = await services.auth.login(Principal.anonymous(), user.username, PASSWORD)
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": claims["iat"] - 10}, services.ctx.settings.jwt_secret, algorithm="HS256")
    with pytest.raises(errors.Unauthorized, match="expired"):
        await services.auth.authenticate_jwt(expired)
    assert (await services.auth.authenticate_jwt(expired, allow_expired=True)).user_id == user.id
    forged = jwt.encode(claims, "not-the-secret-but-long-enough-for-hs256!", algorithm="HS256")
    with pytest.raises(errors.Unauthorized, match="not valid"):
        await services.auth.authenticate_jwt(forged)


async def test_lockout_expires_and_success_resets_the_counter(services, make_user):
    user, _ = await make_user()
    anon = Principal.anonymous()
    for _ in range(4):
        with pytest.raises(errors.Unauthorized):
            await services.auth.login(anon, user.username, "bad")
    await services.auth.login(anon, user.username, PASSWORD)  # resets
    async with services.ctx.db.read() as s:
        assert (await s.get(UserRow, user.id)).failed_logins == 0
    for _ in range(5):
        with pytest.raises((errors.Unauthorized, errors.Forbidden)):
            await services.auth.login(anon, user.username, "bad")
    async with services.ctx.db.transaction() as s:
        row = await s.get(UserRow, user.id)
        row.locked_until = services.ctx.clock.now() - timedelta(seconds=1)
    assert (await services.auth.login(anon, user.username, PASSWORD)).access_token


async def test_users_are_unique_and_only_admins_create_them(services, make_user):
    _user, _ = await make_user(username="dup")
    with pytest.raises(errors.Conflict):
        await services.auth.create_user(Principal.system(), UserCreate(username="DUP", password="long enough"))
    member = await services.auth.principal_for("dup")
    with pytest.raises(errors.Forbidden):
        await services.auth.create_user(member, UserCreate(username="other", password="long enough"))


async def test_ensure_admin_only_on_an_empty_database(services):
    password = await services.auth.ensure_admin()
    assert password and len(password) >= 12
    assert (await services.auth.principal_for("admin")).is_admin
    assert await services.auth.ensure_admin("x" * 12) is None


async def test_set_password_ends_sessions_and_unlocks(services, make_user):
    user, _ = await make_user()
    pair = await services.auth.login(Principal.anonymous(), user.username, PASSWORD)
    await services.auth.set_password(Principal.system(), user.username, "a brand new password")
    async with services.ctx.db.read() as s:
        live = (await s.scalars(select(RefreshTokenRow).where(RefreshTokenRow.user_id == user.id,
                                                              RefreshTokenRow.revoked_at.is_(None)))).all()
    assert live == []
    with pytest.raises(errors.Unauthorized):
        await services.auth.authenticate_jwt(pair.access_token)
    assert await services.auth.login(Principal.anonymous(), user.username, "a brand new password")
