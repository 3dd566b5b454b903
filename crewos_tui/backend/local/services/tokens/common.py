"""What the tokenization services share: loading settings and wallets, address
rules, and rows → wire models."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....schemas.tokens import (
    WALLET_ADDRESS_PATTERN,
    Posting,
    TokenApproval,
    TokenOp,
    TokenRequest,
    TokenRequestStatus,
    TokenSettings,
    TokenTransaction,
    Wallet,
)
from ....token_units import format_units
from ...tables import (
    TokenApprovalRow,
    TokenPostingRow,
    TokenRequestRow,
    TokenSettingsRow,
    TokenTransactionRow,
    TokenWalletRow,
    UserRow,
    table_of,
)
from ...tables.tokens import BURN, HOLDER_KINDS, ISSUANCE, SYSTEM_ADDRESSES

_ADDRESS = re.compile(WALLET_ADDRESS_PATTERN)


def clean_address(address: str) -> str:
    """A wallet address as stored (lowercase), or Invalid."""
    value = address.strip().lower()
    if not _ADDRESS.match(value):
        raise Invalid(
            f"{address!r} is not a wallet address: use 3-64 of a-z 0-9 . _ - (starting with a letter or digit), "
            "or 0x and 40 hex digits"
        )
    return value


def settings_model(row: TokenSettingsRow) -> TokenSettings:
    return TokenSettings(
        project_id=row.project_id, symbol=row.symbol, name=row.name, decimals=row.decimals,
        required_approvals=row.required_approvals, approver_ids=list(row.approver_ids),
        allow_direct_operations=row.allow_direct, confirm_threshold=row.confirm_threshold, updated_at=row.updated_at,
    )


def wallet_model(row: TokenWalletRow, owner_username: str | None) -> Wallet:
    return Wallet(
        address=row.address, label=row.label, owner_kind=row.kind, owner_user_id=row.owner_user_id,
        owner_username=owner_username, frozen=row.frozen, balance=row.balance, created_at=row.created_at,
        updated_at=row.updated_at,
    )


def wallet_select():
    """Holder wallets with their owner's username."""
    return (select(TokenWalletRow, col(UserRow.username))
            .outerjoin(UserRow, col(UserRow.id) == col(TokenWalletRow.owner_user_id))
            .where(col(TokenWalletRow.kind).in_(HOLDER_KINDS)))


class Money:
    """Amounts in a project's display units, for messages people read."""

    def __init__(self, settings: TokenSettingsRow) -> None:
        self.symbol, self.decimals = settings.symbol, settings.decimals

    def __call__(self, amount: int) -> str:
        return f"{format_units(amount, self.decimals)} {self.symbol}"


async def load_settings(s: AsyncSession, project_id: str) -> TokenSettingsRow:
    row = await s.get(TokenSettingsRow, project_id)
    if row is None:
        raise Conflict("the project has no token yet: its owner defines one first (tokenization settings)")
    return row


async def system_wallets(s: AsyncSession, project_id: str) -> tuple[TokenWalletRow, TokenWalletRow]:
    """The project's issuance and burn accounts (created with the token settings)."""
    rows = (await s.scalars(select(TokenWalletRow).where(
        col(TokenWalletRow.project_id) == project_id,
        col(TokenWalletRow.address).in_([SYSTEM_ADDRESSES[ISSUANCE], SYSTEM_ADDRESSES[BURN]])))).all()
    by_kind = {r.kind: r for r in rows}
    return by_kind[ISSUANCE], by_kind[BURN]


async def holder_wallet(s: AsyncSession, project_id: str, address: str, role: str = "") -> TokenWalletRow:
    """A user or treasury wallet of the project by address, or NotFound."""
    cleaned = clean_address(address)
    row = await s.scalar(select(TokenWalletRow).where(
        col(TokenWalletRow.project_id) == project_id, col(TokenWalletRow.address) == cleaned,
        col(TokenWalletRow.kind).in_(HOLDER_KINDS)))
    if row is None:
        raise NotFound(f"{role + ' ' if role else ''}wallet {cleaned!r} not found in this project")
    return row


async def addresses_of(s: AsyncSession, wallet_ids: Iterable[str | None]) -> dict[str, str]:
    ids = {w for w in wallet_ids if w}
    if not ids:
        return {}
    rows = await s.execute(select(col(TokenWalletRow.id), col(TokenWalletRow.address))
                           .where(col(TokenWalletRow.id).in_(ids)))
    return {wid: address for wid, address in rows.all()}  # noqa: C416 - dict(rows) does not type: Row is no tuple


async def request_models(s: AsyncSession, rows: Sequence[TokenRequestRow]) -> list[TokenRequest]:
    """Requests with their approvals and wallet addresses (two queries for a whole page)."""
    if not rows:
        return []
    addresses = await addresses_of(s, [w for r in rows for w in (r.from_wallet_id, r.to_wallet_id)])
    approvals: dict[str, list[TokenApproval]] = {r.id: [] for r in rows}
    found = await s.scalars(select(TokenApprovalRow).where(col(TokenApprovalRow.request_id).in_(list(approvals)))
                            .order_by(col(TokenApprovalRow.created_at), col(TokenApprovalRow.approver_id)))
    for a in found:
        approvals[a.request_id].append(TokenApproval(approver_id=a.approver_id, approver_name=a.approver_name,
                                                     comment=a.comment, created_at=a.created_at))
    return [
        TokenRequest(
            id=r.id, project_id=r.project_id, kind=TokenOp(r.kind), amount=r.amount,
            from_wallet=addresses.get(r.from_wallet_id or ""), to_wallet=addresses.get(r.to_wallet_id or ""),
            memo=r.memo, idempotency_key=r.idempotency_key, status=TokenRequestStatus(r.status),
            requested_by=r.requested_by,
            requested_by_name=r.requested_by_name, required_approvals=r.required_approvals,
            approvals=approvals[r.id], created_at=r.created_at, updated_at=r.updated_at, decided_by=r.decided_by,
            decided_at=r.decided_at, comment=r.comment, executed_by=r.executed_by, executed_at=r.executed_at,
            transaction_id=r.transaction_id, failure_reason=r.failure_reason,
        )
        for r in rows
    ]


async def request_model(s: AsyncSession, row: TokenRequestRow) -> TokenRequest:
    return (await request_models(s, [row]))[0]


#: A wallet as Core columns (status lists up to 200 of them without ORM objects).
WALLET_COLUMNS = (table_of(TokenWalletRow).c.address, table_of(TokenWalletRow).c.label,
                  table_of(TokenWalletRow).c.kind, table_of(TokenWalletRow).c.owner_user_id,
                  table_of(TokenWalletRow).c.frozen, table_of(TokenWalletRow).c.balance,
                  table_of(TokenWalletRow).c.created_at, table_of(TokenWalletRow).c.updated_at)


def wallet_from_row(r: Any) -> Wallet:
    """A row of ``WALLET_COLUMNS`` + the owner's username."""
    return Wallet.model_construct(
        address=r.address, label=r.label, owner_kind=r.kind, owner_user_id=r.owner_user_id, owner_username=r.username,
        frozen=bool(r.frozen), balance=r.balance, created_at=r.created_at, updated_at=r.updated_at)


TX = table_of(TokenTransactionRow).c
POSTING = table_of(TokenPostingRow).c
WALLET = table_of(TokenWalletRow).c
#: Columns of a transaction row as history reads them (Core rows, not ORM objects: a page
#: of history is built without the ORM's per-row bookkeeping).
TX_COLUMNS = (TX.id, TX.project_id, TX.seq, TX.kind, TX.amount, TX.memo, TX.request_id, TX.created_by,
              TX.created_by_name, TX.created_at, TX.supply_after)


def transactions_from_legs(rows: Sequence[Any]) -> tuple[list[TokenTransaction], list[int]]:
    """Rows of (``TX_COLUMNS``, ``k``, address, leg_amount, balance_after), grouped by
    transaction in row order, into transactions and their page keys."""
    items: list[TokenTransaction] = []
    keys: list[int] = []
    current: TokenTransaction | None = None
    for r in rows:
        if current is None or current.id != r.id:
            current = TokenTransaction.model_construct(
                id=r.id, project_id=r.project_id, seq=r.seq, kind=TokenOp(r.kind), amount=r.amount, memo=r.memo,
                request_id=r.request_id, created_by=r.created_by, created_by_name=r.created_by_name,
                created_at=r.created_at, supply_after=r.supply_after, postings=[])
            items.append(current)
            keys.append(r.k)
        current.postings.append(Posting.model_construct(wallet=r.address, amount=r.leg_amount,
                                                        balance_after=r.balance_after))
    return items, keys
