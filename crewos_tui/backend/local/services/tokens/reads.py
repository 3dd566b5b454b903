"""Reading the ledger: token status and transaction history.

Both stay fast at a million postings: balances are the wallets' cached sums,
supply comes from the two system accounts' balances, the transaction count is
the last ``seq``, and a history page is one query: the keyset page (on
``(project_id, seq)``, or for one wallet on its postings' ``(wallet_id, id)``)
joined to all the postings of its transactions.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid
from ....principal import Principal
from ....schemas import Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.tokens import TokenStatus, TokenTransaction
from ...context import ServiceContext
from ...pagination import check_limit, decode_cursor, encode_cursor
from ...tables import (
    TokenPostingRow,
    TokenSettingsRow,
    TokenTransactionRow,
    TokenWalletRow,
    UserRow,
    table_of,
)
from ...tables.tokens import BURN, HOLDER_KINDS, ISSUANCE
from ..projects.access import load_project
from .common import (
    POSTING,
    TX,
    TX_COLUMNS,
    WALLET,
    WALLET_COLUMNS,
    holder_wallet,
    transactions_from_legs,
    wallet_from_row,
)

STATUS_WALLETS = 200


async def history_page(
    s: AsyncSession, project_id: str, limit: int, after: int | None, wallet_id: str | None = None
) -> tuple[list[TokenTransaction], list[int]]:
    """Up to ``limit + 1`` transactions after key ``after`` (newest first) and their keys."""
    if wallet_id is None:
        page = (select(*TX_COLUMNS, TX.seq.label("k")).where(TX.project_id == project_id)
                .where(*([TX.seq < after] if after is not None else []))
                .order_by(TX.seq.desc()).limit(limit + 1).subquery())
    else:
        page = (select(*TX_COLUMNS, POSTING.id.label("k"))
                .join_from(table_of(TokenPostingRow), table_of(TokenTransactionRow), TX.id == POSTING.transaction_id)
                .where(POSTING.wallet_id == wallet_id)
                .where(*([POSTING.id < after] if after is not None else []))
                .order_by(POSTING.id.desc()).limit(limit + 1).subquery())
    leg = table_of(TokenPostingRow).alias("leg")
    rows = (await s.execute(
        select(page, WALLET.address, leg.c.amount.label("leg_amount"), leg.c.balance_after)
        .join(leg, leg.c.transaction_id == page.c.id).join(table_of(TokenWalletRow), WALLET.id == leg.c.wallet_id)
        .order_by(page.c.k.desc(), leg.c.id))).all()
    return transactions_from_legs(rows)


class TokenReads:
    ctx: ServiceContext

    async def token_status(self, principal: Principal, project_id: str) -> TokenStatus:
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            settings = await s.get(TokenSettingsRow, project_id)
            if settings is None:
                return TokenStatus(project_id=project_id)
            # One pass over the project's wallets: counts, holders, and the two system accounts.
            holder = WALLET.kind.in_(HOLDER_KINDS)
            wallet_count, holders, issuance, burn = (await s.execute(select(
                func.count().filter(holder), func.count().filter(holder, WALLET.balance > 0),
                func.coalesce(func.sum(WALLET.balance).filter(WALLET.kind == ISSUANCE), 0),
                func.coalesce(func.sum(WALLET.balance).filter(WALLET.kind == BURN), 0),
            ).where(WALLET.project_id == project_id))).one()
            rows = (await s.execute(
                select(*WALLET_COLUMNS, col(UserRow.username))
                .outerjoin(UserRow, col(UserRow.id) == WALLET.owner_user_id)
                .where(WALLET.project_id == project_id, holder)
                .order_by(WALLET.address).limit(STATUS_WALLETS))).all()
            last, _ = await history_page(s, project_id, 1, None)
        minted, burned = -int(issuance), int(burn)
        return TokenStatus.model_construct(
            project_id=project_id, symbol=settings.symbol, decimals=settings.decimals,
            total_supply=minted - burned, minted=minted, burned=burned, holders=int(holders),
            wallet_count=int(wallet_count), wallets=[wallet_from_row(r) for r in rows],
            transaction_count=last[0].seq if last else 0, last_transaction=last[0] if last else None,
        )

    async def list_transactions(
        self,
        principal: Principal,
        project_id: str,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        wallet: str | None = None,
    ) -> Page[TokenTransaction]:
        """The ledger newest first; ``wallet`` keeps the transactions that touched it.
        The cursor is the last key of the page before."""
        check_limit(limit)
        after = decode_cursor(cursor, 1)[0] if cursor else None
        if after is not None and not isinstance(after, int):
            raise Invalid("cursor is not one this server issued")
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            wallet_id = (await holder_wallet(s, project_id, wallet)).id if wallet is not None else None
            items, keys = await history_page(s, project_id, limit, after, wallet_id)
        more = len(items) > limit
        return Page[TokenTransaction](items=items[:limit],
                                      next_cursor=encode_cursor([keys[limit - 1]]) if more else None)
