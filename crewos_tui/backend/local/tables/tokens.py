"""Project tokenization tables: settings, wallets, the append-only ledger, requests.

The ledger is ``token_transactions`` (one per movement, numbered per project in
commit order) and ``token_postings`` (its signed legs, summing to zero). Neither is
ever updated or deleted (``sqlite_guards`` makes the database refuse it). A wallet's
``balance`` is a cached sum of its postings, written in the same transaction as
the postings and checked against them by the tests; ``balance_after`` on each
posting and ``supply_after`` on each transaction record the running totals so
charts and history need no aggregation. The CHECK constraints keep holder wallets
from ever going below zero, whatever code path writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from ..sqlite_guards import append_only
from . import fk_column, json_column, table_of, utc_column

#: Kinds of wallet rows. The two system accounts exist once per project.
HOLDER_KINDS = ("user", "treasury")
ISSUANCE, BURN = "issuance", "burn"
SYSTEM_ADDRESSES = {ISSUANCE: "@issuance", BURN: "@burn"}


class TokenSettingsRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "token_settings"
    project_id: str = Field(sa_column=Column(String, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True))
    symbol: str
    name: str = ""
    decimals: int = 0
    required_approvals: int = 1
    approver_ids: list[str] = json_column(list)
    allow_direct: bool = False
    confirm_threshold: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class TokenWalletRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "token_wallets"
    __table_args__ = (
        UniqueConstraint("project_id", "address", name="uq_token_wallet_address"),
        CheckConstraint("balance >= 0 OR kind IN ('issuance', 'burn')", name="ck_token_wallet_not_negative"),
    )
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id", index=False)  # the unique constraint indexes it
    address: str
    label: str = ""
    kind: str = "user"  # user | treasury | issuance | burn
    owner_user_id: str | None = fk_column("users.id", ondelete="SET NULL", nullable=True)
    frozen: bool = False
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class TokenRequestRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "token_requests"
    __table_args__ = (
        UniqueConstraint("project_id", "requested_by", "idempotency_key", name="uq_token_request_idempotency"),
        Index("ix_token_requests_project_status", "project_id", "status", "id"),
    )
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id", index=False)
    kind: str
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    from_wallet_id: str | None = fk_column("token_wallets.id", nullable=True, index=False)
    to_wallet_id: str | None = fk_column("token_wallets.id", nullable=True, index=False)
    memo: str = ""
    idempotency_key: str | None = None
    body_hash: str = ""
    status: str = "pending"
    requested_by: str | None = None
    requested_by_name: str = ""
    required_approvals: int = 1
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    decided_by: str | None = None
    decided_at: datetime | None = utc_column(nullable=True)
    comment: str = ""
    executed_by: str | None = None
    executed_at: datetime | None = utc_column(nullable=True)
    transaction_id: str | None = None
    failure_reason: str = ""


Index("ix_token_requests_project", table_of(TokenRequestRow).c.project_id, table_of(TokenRequestRow).c.id)


class TokenApprovalRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "token_request_approvals"
    request_id: str = Field(
        sa_column=Column(String, ForeignKey("token_requests.id", ondelete="CASCADE"), primary_key=True))
    approver_id: str = Field(sa_column=Column(String, primary_key=True))
    approver_name: str = ""
    comment: str = ""
    created_at: datetime = utc_column()


class TokenTransactionRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "token_transactions"
    __table_args__ = (UniqueConstraint("project_id", "seq", name="uq_token_transaction_seq"),)
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id", index=False)
    seq: int
    kind: str
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    memo: str = ""
    # Unique: a request produces at most one transaction, even if a bug tried twice.
    request_id: str | None = Field(
        default=None,
        sa_column=Column(String, ForeignKey("token_requests.id", ondelete="CASCADE"), nullable=True, unique=True))
    created_by: str | None = None
    created_by_name: str = ""
    created_at: datetime = utc_column()
    supply_after: int = Field(sa_column=Column(BigInteger, nullable=False))


class TokenPostingRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "token_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="ck_token_posting_nonzero"),
        Index("ix_token_postings_wallet", "wallet_id", "id"),
        Index("ix_token_postings_transaction", "transaction_id"),
    )
    # An integer key: a million postings stay compact and insert in order.
    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    transaction_id: str = Field(
        sa_column=Column(String, ForeignKey("token_transactions.id", ondelete="CASCADE"), nullable=False))
    # Denormalised (no foreign key, so no cascade scan): lets the append-only guard
    # tell a project's deletion from a tampering DELETE.
    project_id: str
    wallet_id: str = Field(
        sa_column=Column(String, ForeignKey("token_wallets.id", ondelete="CASCADE"), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))


append_only(table_of(TokenTransactionRow))
append_only(table_of(TokenPostingRow))

__all__ = [
    "TokenApprovalRow", "TokenPostingRow", "TokenRequestRow", "TokenSettingsRow", "TokenTransactionRow",
    "TokenWalletRow",
]
