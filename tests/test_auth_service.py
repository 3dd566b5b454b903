"""Auth internals the contract tests cannot see: what is stored, expiry, reuse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services import auth as auth_module
from crewos_tui.backend.local.tables import ApiKeyRow, DomainEventRow, RefreshTokenRow, UserRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ApiKeyCreate, UserCreate

from .conftest import PASSWORD, ManualClock, fast_settings, user_factory


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


@pytest.fixture
async def clocked(fresh_db) -> AsyncIterator[tuple[Services, ManualClock]]:
    clock = ManualClock()
    svc = await Services.open(fresh_db, clock=clock, settings=fast_settings(login_delay_first=timedelta(seconds=1)))
    yield svc, clock
    await svc.close()


async def refused(svc: Services, username: str, password: str) -> str:
    """The answer to a refused sign-in, as the caller sees it."""
    with pytest.raises(errors.Unauthorized) as caught:
        await svc.auth.login(Principal.anonymous(), username, password)
    return f"{type(caught.value).__name__}: {caught.value}"


async def throttle_of(svc: Services, user_id: str) -> tuple[int, datetime | None]:
    async with svc.ctx.db.read() as s:
        row = await s.get(UserRow, user_id)
    return row.failed_logins, row.locked_until.replace(tzinfo=UTC) if row.locked_until else None


async def test_a_success_before_the_threshold_resets_the_count(services, make_user):
    user, _ = await make_user()
    for _ in range(services.ctx.settings.max_failed_logins - 1):
        await refused(services, user.username, "bad")
    await services.auth.login(Principal.anonymous(), user.username, PASSWORD)
    assert await throttle_of(services, user.id) == (0, None)


async def test_five_wrong_passwords_make_the_right_one_wait_with_the_same_answer(clocked):
    svc, clock = clocked
    user, _ = await user_factory(svc)()
    answers = [await refused(svc, user.username, "bad") for _ in range(5)]
    assert await throttle_of(svc, user.id) == (5, clock.now() + timedelta(seconds=1))
    # During the wait the right password is refused exactly like a wrong one.
    assert await refused(svc, user.username, PASSWORD) == answers[-1] == answers[0]
    assert answers[0] == "Unauthorized: invalid username or password"
    clock.advance(1)
    assert (await svc.auth.login(Principal.anonymous(), user.username, PASSWORD)).access_token
    assert await throttle_of(svc, user.id) == (0, None)


async def test_the_wait_doubles_per_further_failure_and_is_capped(clocked):
    svc, clock = clocked
    user, _ = await user_factory(svc)()
    for _ in range(5):
        await refused(svc, user.username, "bad")
    waits = []
    for _ in range(12):
        _, until = await throttle_of(svc, user.id)
        assert until is not None
        waits.append((until - clock.now()).total_seconds())
        clock.t = until  # the wait is over: the next wrong password counts again
        await refused(svc, user.username, "bad")
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert svc.auth.login_delay(10_000) == timedelta(minutes=15)
    assert svc.auth.login_delay(4) is None


async def test_guesses_during_a_wait_neither_count_nor_lengthen_it(clocked):
    """An attacker cannot keep the owner out: the owner waits at most the current delay."""
    svc, clock = clocked
    user, _ = await user_factory(svc)()
    for _ in range(5):
        await refused(svc, user.username, "bad")
    before = await throttle_of(svc, user.id)
    for _ in range(50):
        await refused(svc, user.username, "guess")
        clock.advance(0.01)
    assert await throttle_of(svc, user.id) == before
    clock.t = before[1]
    assert (await svc.auth.login(Principal.anonymous(), user.username, PASSWORD)).access_token


async def test_every_refusal_checks_one_password_hash(clocked, monkeypatch):
    """Unknown user, wrong password and throttled account do the same work and answer alike."""
    svc, _ = clocked
    user, _ = await user_factory(svc)()
    calls: list[str] = []
    real = auth_module.verify_password

    def counting(password: str, stored: str) -> bool:
        calls.append(password)
        return real(password, stored)

    monkeypatch.setattr(auth_module, "verify_password", counting)
    answers = {"unknown user": await refused(svc, "nobody-here", PASSWORD)}
    for i in range(5):
        answers[f"wrong password {i}"] = await refused(svc, user.username, "bad")
    answers["throttled, wrong password"] = await refused(svc, user.username, "bad")
    answers["throttled, right password"] = await refused(svc, user.username, PASSWORD)
    assert set(answers.values()) == {"Unauthorized: invalid username or password"}
    assert len(calls) == len(answers)


async def test_an_admin_unlock_clears_the_throttle(clocked):
    svc, _ = clocked
    user, _ = await user_factory(svc)()
    for _ in range(7):
        await refused(svc, user.username, "bad")
    unlocked = await svc.admin.unlock_user(Principal.system(), user.id)
    assert unlocked.locked_until is None and unlocked.failed_logins == 0
    assert (await svc.auth.login(Principal.anonymous(), user.username, PASSWORD)).access_token
    # The count starts again from zero: one more wrong password does not throttle.
    await refused(svc, user.username, "bad")
    assert await throttle_of(svc, user.id) == (1, None)


async def test_a_throttle_is_a_domain_event(clocked):
    svc, _ = clocked
    user, _ = await user_factory(svc)()
    for _ in range(5):
        await refused(svc, user.username, "bad")
    async with svc.ctx.db.read() as s:
        kinds = (await s.scalars(select(DomainEventRow.kind).where(DomainEventRow.resource_id == user.id))).all()
    assert kinds.count("auth.login_failed") == 5 and kinds.count("user.throttled") == 1
    assert "user.locked" not in kinds


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
