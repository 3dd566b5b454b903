"""Carrying out a movement: resolve wallets, plan, post, and announce it.

Shared by direct operations and executed requests, so both produce the same
transaction, the same balances and the same ``token.minted|transferred|burned``
event (naming every affected user so notifications can address them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ....principal import Principal
from ....schemas.tokens import TokenOp
from ...context import ServiceContext
from ...tables import TokenSettingsRow, TokenTransactionRow, TokenWalletRow
from .common import Money
from .ledger import Movement, plan, post

EVENT_KIND = {TokenOp.mint: "token.minted", TokenOp.transfer: "token.transferred", TokenOp.burn: "token.burned"}


def owner_ids(*wallets: TokenWalletRow | None) -> list[str]:
    return list(dict.fromkeys(w.owner_user_id for w in wallets if w is not None and w.owner_user_id))


async def move(
    ctx: ServiceContext,
    s: AsyncSession,
    principal: Principal,
    settings: TokenSettingsRow,
    movement: Movement,
    *,
    memo: str,
    request_id: str | None = None,
    **event_data: Any,
) -> TokenTransactionRow:
    """Plan (raising Conflict with nothing written) and post ``movement``; emit its event."""
    legs = await plan(s, movement, Money(settings))
    tx = await post(s, tx_id=ctx.ids.new(), movement=movement, legs=legs, principal=principal, memo=memo,
                    request_id=request_id, now=ctx.clock.now())
    await ctx.events.emit(
        s, principal, EVENT_KIND[movement.kind], "token_transaction", tx.id, settings.project_id,
        transaction_id=tx.id, seq=tx.seq, op=movement.kind.value, amount=movement.amount,
        symbol=settings.symbol, decimals=settings.decimals,
        from_wallet=movement.source.address if movement.source else None,
        to_wallet=movement.target.address if movement.target else None,
        wallet_owner_ids=owner_ids(movement.source, movement.target),
        request_id=request_id, supply_after=tx.supply_after, **event_data,
    )
    return tx
