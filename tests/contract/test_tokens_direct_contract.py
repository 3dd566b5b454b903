"""Direct mint, transfer and burn on both backends: only for admins and the project
owner, only where policy allows, and still a transaction with its events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.local.tables import DomainEventRow
from crewos_tui.backend.schemas.tokens import (
    TokenBurn,
    TokenMint,
    TokenSettingsUpdate,
    TokenTransfer,
)

from .tokens_support import ledger_project


async def test_owner_moves_tokens_directly_when_policy_allows(world):
    lp = await ledger_project(world, direct=True, decimals=2)
    t = lp.owner.tokenization
    minted = await t.mint(lp.project_id, TokenMint(to_wallet="treasury", amount=10_000, memo="grant"))
    assert (minted.seq, minted.kind, minted.amount, minted.supply_after, minted.request_id) == (
        1, "mint", 10_000, 10_000, None)
    assert {p.wallet: p.amount for p in minted.postings} == {"@issuance": -10_000, "treasury": 10_000}
    moved = await t.transfer(lp.project_id, TokenTransfer(from_wallet="treasury", to_wallet="editor-wallet",
                                                          amount=2_500))
    assert moved.seq == 2 and moved.supply_after == 10_000
    burned = await t.burn(lp.project_id, TokenBurn(from_wallet="editor-wallet", amount=500))
    assert burned.supply_after == 9_500
    assert await lp.balances() == {"approver-wallet": 0, "editor-wallet": 2_000, "treasury": 7_500}

    async with world.services.ctx.db.read() as s:
        events = list(await s.scalars(select(DomainEventRow).where(
            DomainEventRow.project_id == lp.project_id, DomainEventRow.kind.in_(
                ["token.minted", "token.transferred", "token.burned"])).order_by(DomainEventRow.id)))
    assert [e.kind for e in events] == ["token.minted", "token.transferred", "token.burned"]
    assert all(e.data["direct"] is True and e.actor_id == lp.users["owner"].id for e in events)
    assert events[1].data["wallet_owner_ids"] == [lp.users["editor"].id]


async def test_admin_may_move_directly_too(world):
    lp = await ledger_project(world, direct=True)
    admin = await world.as_(await world.user(role="admin", team="ledger-outsiders"))
    tx = await admin.tokenization.mint(lp.project_id, TokenMint(to_wallet="treasury", amount=3))
    assert tx.created_by_name != "" and tx.amount == 3


async def test_direct_operations_are_refused_without_policy_or_role(world):
    lp = await ledger_project(world, direct=False)
    with pytest.raises(errors.Forbidden, match="policy"):
        await lp.owner.tokenization.mint(lp.project_id, TokenMint(to_wallet="treasury", amount=5))
    await lp.owner.tokenization.configure(lp.project_id, TokenSettingsUpdate(
        symbol="CRW", decimals=2, approver_ids=[lp.users["approver"].id], allow_direct_operations=True))
    for who in (lp.editor, lp.approver, lp.viewer):
        with pytest.raises(errors.Forbidden, match="token request"):
            await who.tokenization.mint(lp.project_id, TokenMint(to_wallet="treasury", amount=5))
    assert (await lp.viewer.tokenization.token_status(lp.project_id)).transaction_count == 0


async def test_direct_refusals_write_nothing(world):
    lp = await ledger_project(world, direct=True, decimals=2)
    t = lp.owner.tokenization
    await t.mint(lp.project_id, TokenMint(to_wallet="treasury", amount=1_000))
    with pytest.raises(errors.Conflict, match=r"insufficient balance.*shortfall 0\.01 CRW, 1 units"):
        await t.burn(lp.project_id, TokenBurn(from_wallet="treasury", amount=1_001))
    with pytest.raises(errors.Conflict, match="insufficient"):
        await t.transfer(lp.project_id, TokenTransfer(from_wallet="editor-wallet", to_wallet="treasury", amount=1))
    with pytest.raises(errors.NotFound, match="ghost"):
        await t.transfer(lp.project_id, TokenTransfer(from_wallet="treasury", to_wallet="ghost", amount=1))
    with pytest.raises(errors.Invalid, match="different"):
        await t.transfer(lp.project_id, TokenTransfer(from_wallet="treasury", to_wallet="treasury", amount=1))
    with pytest.raises(errors.Conflict, match="cap"):
        await t.mint(lp.project_id, TokenMint(to_wallet="treasury", amount=10**18))
    status = await lp.viewer.tokenization.token_status(lp.project_id)
    assert (status.transaction_count, status.total_supply) == (1, 1_000)
    assert await lp.balances() == {"approver-wallet": 0, "editor-wallet": 0, "treasury": 1_000}
