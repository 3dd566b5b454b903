"""The ledger posting logic: the one place tokens move.

A movement is a transaction of signed postings that sum to zero:

- mint:     ``@issuance`` −amount, target +amount
- transfer: source −amount, target +amount
- burn:     source −amount, ``@burn`` +amount

so supply (the holders' total) = minted (−issuance balance) − burned (burn balance).
``plan`` checks everything first (frozen wallets, balances, the supply cap) and
writes nothing; ``post`` then appends the transaction and its postings and moves the
cached balances, all inside the caller's write transaction (``BEGIN IMMEDIATE``:
writers are serialised, so the balances read here are the ones committed).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid
from ....principal import Principal
from ....schemas.tokens import MAX_AMOUNT, MAX_SUPPLY, TokenOp
from ...tables import TokenPostingRow, TokenTransactionRow, TokenWalletRow
from .common import Money, system_wallets

#: SQLite's INTEGER range: the issuance account's lifetime total must stay inside it.
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Leg:
    wallet: TokenWalletRow
    amount: int  # signed


@dataclass(frozen=True)
class Movement:
    kind: TokenOp
    amount: int
    source: TokenWalletRow | None  # transfer, burn
    target: TokenWalletRow | None  # mint, transfer


def check_shape(kind: TokenOp, amount: int, source: object | None, target: object | None) -> None:
    """Which wallets each kind needs; amounts are positive integers (never floats)."""
    if type(amount) is not int or amount <= 0:
        raise Invalid("amount must be a positive integer number of the token's smallest units")
    if amount > MAX_AMOUNT:
        raise Invalid(f"amount may be at most {MAX_AMOUNT} smallest units per operation")
    if kind == TokenOp.mint and (target is None or source is not None):
        raise Invalid("a mint names to_wallet only")
    if kind == TokenOp.burn and (source is None or target is not None):
        raise Invalid("a burn names from_wallet only")
    if kind == TokenOp.transfer and (source is None or target is None):
        raise Invalid("a transfer names both from_wallet and to_wallet")


async def plan(s: AsyncSession, movement: Movement, money: Money) -> list[Leg]:
    """The legs of ``movement``, or Conflict saying why it cannot happen now."""
    m = movement
    issuance, burn = await system_wallets(s, _project_of(m))
    if m.kind == TokenOp.mint:
        assert m.target is not None
        legs = [Leg(issuance, -m.amount), Leg(m.target, m.amount)]
    elif m.kind == TokenOp.transfer:
        assert m.source is not None and m.target is not None
        if m.source.id == m.target.id:
            raise Invalid("a transfer needs two different wallets")
        legs = [Leg(m.source, -m.amount), Leg(m.target, m.amount)]
    else:
        assert m.source is not None
        legs = [Leg(m.source, -m.amount), Leg(burn, m.amount)]
    for leg in legs:
        w = leg.wallet
        if w.kind in ("issuance", "burn"):
            continue
        if w.frozen:
            side = "send" if leg.amount < 0 else "receive"
            raise Conflict(f"wallet {w.address!r} is frozen: it can neither send nor receive (cannot {side})")
        if w.balance + leg.amount < 0:
            short = -(w.balance + leg.amount)
            raise Conflict(f"insufficient balance: wallet {w.address!r} holds {money(w.balance)} but "
                           f"{money(m.amount)} is needed (shortfall {money(short)}, {short} units)")
    if m.kind == TokenOp.mint:
        supply = -issuance.balance - burn.balance
        if supply + m.amount > MAX_SUPPLY:
            raise Conflict(f"minting {money(m.amount)} would take the supply over its cap of {money(MAX_SUPPLY)}")
        if -issuance.balance + m.amount > INT64_MAX:
            raise Conflict("the ledger's lifetime minted total would leave the 64-bit range")
    if sum(leg.amount for leg in legs) != 0:  # the shape above guarantees it; this says so loudly
        raise AssertionError("postings of a transaction must sum to zero")
    return legs


def _project_of(m: Movement) -> str:
    wallet = m.source or m.target
    assert wallet is not None
    return wallet.project_id


async def post(
    s: AsyncSession,
    *,
    tx_id: str,
    movement: Movement,
    legs: list[Leg],
    principal: Principal,
    memo: str,
    request_id: str | None,
    now: object,
) -> TokenTransactionRow:
    """Append the transaction and its postings; move the cached balances."""
    project_id = _project_of(movement)
    seq = int(await s.scalar(select(func.coalesce(func.max(col(TokenTransactionRow.seq)), 0))
                             .where(col(TokenTransactionRow.project_id) == project_id)) or 0) + 1
    issuance, burn = await system_wallets(s, project_id)
    for leg in legs:
        leg.wallet.balance += leg.amount
        leg.wallet.updated_at = now  # type: ignore[assignment]
    supply = -issuance.balance - burn.balance
    tx = TokenTransactionRow(
        id=tx_id, project_id=project_id, seq=seq, kind=movement.kind.value, amount=movement.amount, memo=memo,
        request_id=request_id, created_by=principal.user_id, created_by_name=principal.username,
        created_at=now, supply_after=supply,  # type: ignore[arg-type]
    )
    s.add(tx)
    await s.flush()  # the transaction row first: postings reference it
    await s.execute(insert(TokenPostingRow), [
        {"transaction_id": tx_id, "project_id": project_id, "wallet_id": leg.wallet.id, "amount": leg.amount,
         "balance_after": leg.wallet.balance}
        for leg in legs
    ])
    return tx
