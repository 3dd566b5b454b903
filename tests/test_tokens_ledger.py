"""The token ledger underneath the API: append-only in the database itself, cached
balances that always equal their postings, a migrated database getting the same
guards, and exact display-unit arithmetic."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import (
    TokenPostingRow,
    TokenTransactionRow,
    TokenWalletRow,
)
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.tokens import (
    TokenMint,
    TokenSettingsUpdate,
    TokenTransfer,
    WalletUpsert,
)
from crewos_tui.backend.token_units import format_units, parse_units

from .conftest import fast_settings
from .test_db import make_v1


async def ledger(services: Services, make_user) -> tuple[Principal, str]:
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)
    t = services.tokenization
    project = await services.projects.create(me, ProjectCreate(name="Ledger"))
    await t.configure(me, project.id, TokenSettingsUpdate(symbol="LDG", decimals=2, allow_direct_operations=True))
    for address in ("alpha", "beta"):
        await t.upsert_wallet(me, project.id, address, WalletUpsert())
    await t.mint(me, project.id, TokenMint(to_wallet="alpha", amount=1_000))
    await t.transfer(me, project.id, TokenTransfer(from_wallet="alpha", to_wallet="beta", amount=250))
    return me, project.id


async def check_cached_balances(services: Services, project_id: str) -> None:
    """Every wallet's cached balance is the sum of its postings; the last posting's
    ``balance_after`` is that balance; holders are never negative."""
    async with services.ctx.db.read() as s:
        wallets = (await s.scalars(select(TokenWalletRow).where(TokenWalletRow.project_id == project_id))).all()
        for w in wallets:
            total = await s.scalar(select(func.coalesce(func.sum(TokenPostingRow.amount), 0))
                                   .where(TokenPostingRow.wallet_id == w.id))
            last = await s.scalar(select(TokenPostingRow.balance_after).where(TokenPostingRow.wallet_id == w.id)
                                  .order_by(TokenPostingRow.id.desc()).limit(1))
            assert w.balance == total == (last or 0), w.address
            if w.kind in ("user", "treasury"):
                assert w.balance >= 0


async def test_postings_and_transactions_refuse_update_and_delete(services, make_user):
    _, pid = await ledger(services, make_user)
    for statement in ("UPDATE token_postings SET amount = amount + 1",
                      "DELETE FROM token_postings",
                      "UPDATE token_transactions SET memo = 'edited'",
                      "DELETE FROM token_transactions"):
        with pytest.raises(IntegrityError, match="append-only"):
            async with services.ctx.db.transaction() as s:
                await s.execute(text(statement))
    async with services.ctx.db.transaction() as s:
        # Even the ORM path is refused, and the wallet's cached balance cannot go negative.
        with pytest.raises(IntegrityError, match=r"ck_token_wallet_not_negative|CHECK"):
            await s.execute(text("UPDATE token_wallets SET balance = -1 WHERE address = 'alpha'"))
    await check_cached_balances(services, pid)


async def test_deleting_a_project_takes_its_ledger_along(services, make_user):
    me, pid = await ledger(services, make_user)
    await services.projects.delete(me, pid)
    async with services.ctx.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(TokenPostingRow)) == 0
        assert await s.scalar(select(func.count()).select_from(TokenTransactionRow)) == 0


async def test_cached_balances_match_postings(services, make_user):
    _, pid = await ledger(services, make_user)
    await check_cached_balances(services, pid)
    async with services.ctx.db.read() as s:
        rows = (await s.execute(select(TokenTransactionRow.seq, TokenTransactionRow.supply_after)
                                .order_by(TokenTransactionRow.seq))).all()
    assert [tuple(r) for r in rows] == [(1, 1_000), (2, 1_000)]


async def test_a_migrated_database_gets_the_ledger_and_its_guards(tmp_path: Path):
    path = tmp_path / "old.db"
    make_v1(path)
    svc = await Services.open(path, settings=fast_settings())
    await svc.close()
    con = sqlite3.connect(path)
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    assert {"token_postings_no_update", "token_postings_no_delete", "token_transactions_no_update",
            "token_transactions_no_delete"} <= triggers
    assert {"token_settings", "token_wallets", "token_requests", "token_request_approvals", "token_transactions",
            "token_postings"} <= tables


# ---- display units -----------------------------------------------------------------------


@pytest.mark.parametrize(("units", "decimals", "text_"), [
    (0, 2, "0.00"), (5, 2, "0.05"), (123456, 2, "1,234.56"), (-1050, 2, "-10.50"), (7, 0, "7"),
    (10**18, 18, "1.000000000000000000"), (1, 6, "0.000001"),
])
def test_format_units(units: int, decimals: int, text_: str) -> None:
    assert format_units(units, decimals) == text_


@pytest.mark.parametrize(("text_", "decimals", "units"), [
    ("12.5", 2, 1250), ("1,000", 2, 100_000), ("0.10", 1, 1), ("3", 0, 3), ("3.000", 0, 3), (" 7. ", 2, 700),
])
def test_parse_units(text_: str, decimals: int, units: int) -> None:
    assert parse_units(text_, decimals) == units


@pytest.mark.parametrize("text_", ["", "-1", "1e3", "abc", "1.2.3", "0.001", "+5", "1.5e2", "∞", "nan"])
def test_parse_units_refuses(text_: str) -> None:
    with pytest.raises(ValueError):
        parse_units(text_, 2)


@given(st.integers(min_value=0, max_value=10**24), st.integers(min_value=0, max_value=18))
def test_display_units_round_trip_exactly(units: int, decimals: int) -> None:
    assert parse_units(format_units(units, decimals), decimals) == units
    assert parse_units(format_units(units, decimals, grouping=False), decimals) == units
