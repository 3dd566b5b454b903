"""What an admin reads about a user's sign-ins, on the admin screen and from
``crewos-tui users list``: sign-in throttles after wrong passwords (growing waits,
ended by an admin's unlock), it never locks, so no state says "locked"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import AdminUser, UserUpdate
from crewos_tui.backend.schemas.admin import sign_in_state
from crewos_tui.backend.serve import _print_users
from crewos_tui.widgets.admin_text import user_state

from .conftest import ManualClock, fast_settings, user_factory

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def user(**kw: object) -> AdminUser:
    return AdminUser.model_validate({"id": "u1", "username": "tess", "team": "default", "role": "member",
                                     "created_at": NOW, **kw})


@pytest.mark.parametrize(("fields", "state"), [
    ({}, "active"),
    ({"failed_logins": 1}, "1 failed sign-in"),
    ({"failed_logins": 2}, "2 failed sign-ins"),
    ({"failed_logins": 6, "locked_until": NOW + timedelta(minutes=2)}, "throttled until 2026-01-05 09:02 UTC"),
    ({"failed_logins": 6, "locked_until": (NOW + timedelta(minutes=2)).replace(tzinfo=None)},  # naive means UTC
     "throttled until 2026-01-05 09:02 UTC"),
    ({"failed_logins": 6, "locked_until": NOW - timedelta(seconds=1)}, "6 failed sign-ins"),  # the wait is over
    ({"disabled": True, "failed_logins": 6, "locked_until": NOW + timedelta(minutes=2)}, "disabled"),
])
def test_the_state_says_what_the_record_says(fields: dict[str, object], state: str) -> None:
    assert sign_in_state(user(**fields), NOW) == state
    shown = user_state(user(**fields), NOW)
    assert shown.plain == state and "locked" not in shown.plain


def test_the_screen_marks_a_wait_and_a_count() -> None:
    assert str(user_state(user(failed_logins=6, locked_until=NOW + timedelta(minutes=2)), NOW).style) == "bold"
    assert str(user_state(user(failed_logins=2), NOW).style) == "italic"
    assert str(user_state(user(), NOW).style) == "dim"


async def refused(svc: Services, username: str) -> None:
    with pytest.raises(errors.Unauthorized):
        await svc.auth.login(Principal.anonymous(), username, "not the password")


async def test_users_list_says_throttled_failed_disabled_or_active(fresh_db, capsys: pytest.CaptureFixture[str]):
    clock = ManualClock()
    svc = await Services.open(fresh_db, clock=clock, settings=fast_settings(login_delay_first=timedelta(minutes=5)))
    try:
        make = user_factory(svc)
        tess, _ = await make("tess")
        await make("carl")
        await make("ida")
        dora, _ = await make("dora")
        for _ in range(svc.ctx.settings.max_failed_logins):
            await refused(svc, "tess")
        for _ in range(2):
            await refused(svc, "carl")
        await svc.admin.update_user(Principal.system(), dora.id, UserUpdate(disabled=True))

        async def states() -> dict[str, str]:
            await _print_users(svc, Principal.system())
            out = capsys.readouterr().out
            assert "locked" not in out
            lines = out.splitlines()
            start = lines[0].index("STATE")
            return {line.split()[0]: line[start:].rsplit("  ", 1)[0].strip() for line in lines[1:]}

        assert await states() == {"tess": "throttled until 2026-01-05 09:05 UTC", "carl": "2 failed sign-ins",
                                  "ida": "active", "dora": "disabled"}
        clock.advance(5 * 60 + 1)  # the wait ran out; the count stays (the next wrong one waits longer)
        assert (await states())["tess"] == "5 failed sign-ins"
        await svc.admin.unlock_user(Principal.system(), tess.id)
        assert (await states())["tess"] == "active"
    finally:
        await svc.close()
