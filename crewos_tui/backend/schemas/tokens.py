"""Project tokenization: token settings, wallets, the ledger and token change requests.

Every amount is an ``int`` in the token's smallest unit; ``decimals`` only says how
to display it. Amounts are strict integers on the wire: ``5.0``, ``"5"`` and ``true``
are refused (422), so no float ever reaches the ledger.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from .common import Id, Request, Wire
from .text import MULTI_LINE, ONE_LINE

#: One operation moves at most this many smallest units (10^18).
MAX_AMOUNT = 10**18
#: The total supply never exceeds this (it keeps every balance inside SQLite's 64-bit INTEGER).
MAX_SUPPLY = 10**18
MAX_DECIMALS = 18
MAX_APPROVERS = 50
#: A wallet address: 3-64 of a-z 0-9 . _ - starting with a letter or digit (not "0x"), or an EVM-style
#: ``0x`` + 40 hex digits. Addresses are case-insensitive and stored lowercase.
WALLET_ADDRESS_PATTERN = r"^(?:0x[0-9a-f]{40}|(?!0x)[a-z0-9][a-z0-9._-]{2,63})$"

Amount = Annotated[int, Field(strict=True, gt=0, le=MAX_AMOUNT, description="Smallest units (an integer > 0).")]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z][A-Za-z0-9]{1,9}$")]
WalletRef = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=66), ONE_LINE]
Memo = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), MULTI_LINE]
IdempotencyKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE]


class TokenOp(StrEnum):
    mint = "mint"
    transfer = "transfer"
    burn = "burn"


class TokenRequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"
    executed = "executed"
    failed = "failed"


class WalletOwnerKind(StrEnum):
    user = "user"
    treasury = "treasury"


# ---- settings and readiness ----------------------------------------------------------


class TokenSettingsUpdate(Request):
    """Define the project's token and its approval policy (owner or admin)."""

    symbol: Symbol
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80), ONE_LINE] = ""
    decimals: Annotated[int, Field(strict=True, ge=0, le=MAX_DECIMALS)] = 0
    required_approvals: Annotated[int, Field(strict=True, ge=1, le=10)] = 1
    approver_ids: list[Id] = Field(default_factory=list, max_length=MAX_APPROVERS)
    #: Admins and the project owner may mint/transfer/burn without a request.
    allow_direct_operations: bool = False
    #: Amounts above this (smallest units) need the project name typed to confirm; 0 = never.
    confirm_threshold: Annotated[int, Field(strict=True, ge=0, le=MAX_AMOUNT)] = 0


class TokenSettings(Wire):
    project_id: str
    symbol: str
    name: str = ""
    decimals: int = 0
    required_approvals: int = 1
    approver_ids: list[str] = Field(default_factory=list)
    allow_direct_operations: bool = False
    confirm_threshold: int = 0
    updated_at: datetime


class ReadinessItem(Wire):
    key: str  # token | wallet | treasury | approvers
    label: str
    done: bool
    detail: str = ""


class TokenizationStatus(Wire):
    """What the project still needs before tokens can move."""

    project_id: str
    ready: bool
    checklist: list[ReadinessItem]
    settings: TokenSettings | None = None


# ---- wallets ---------------------------------------------------------------------------


class WalletUpsert(Request):
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80), ONE_LINE] = ""
    owner_kind: WalletOwnerKind = WalletOwnerKind.user
    #: For a user wallet: the project member who holds it (default: the caller).
    owner_user_id: str | None = None
    frozen: bool = False


class Wallet(Wire):
    address: str
    label: str = ""
    owner_kind: str  # user | treasury
    owner_user_id: str | None = None
    owner_username: str | None = None
    frozen: bool = False
    balance: int = 0
    created_at: datetime
    updated_at: datetime


# ---- the ledger ----------------------------------------------------------------------


class Posting(Wire):
    """One leg of a transaction. ``amount`` is signed; a transaction's legs sum to zero.
    The system accounts are ``@issuance`` (minted tokens come from it) and ``@burn``."""

    wallet: str
    amount: int
    balance_after: int


class TokenTransaction(Wire):
    id: str
    project_id: str
    seq: int  # 1, 2, 3… per project, in commit order
    kind: TokenOp
    amount: int
    memo: str = ""
    request_id: str | None = None
    created_by: str | None = None
    created_by_name: str = ""
    created_at: datetime
    supply_after: int
    postings: list[Posting] = Field(default_factory=list[Posting])


class TokenStatus(Wire):
    project_id: str
    symbol: str | None = None
    decimals: int = 0
    total_supply: int = 0
    minted: int = 0
    burned: int = 0
    holders: int = 0  # wallets with a balance above zero
    wallet_count: int = 0
    wallets: list[Wallet] = Field(default_factory=list[Wallet])  # by address; at most the first 200
    transaction_count: int = 0
    last_transaction: TokenTransaction | None = None


class TokenMint(Request):
    to_wallet: WalletRef
    amount: Amount
    memo: Memo = ""


class TokenTransfer(Request):
    from_wallet: WalletRef
    to_wallet: WalletRef
    amount: Amount
    memo: Memo = ""


class TokenBurn(Request):
    from_wallet: WalletRef
    amount: Amount
    memo: Memo = ""


# ---- token change requests ---------------------------------------------------------------


class TokenRequestCreate(Request):
    kind: TokenOp
    amount: Amount
    from_wallet: WalletRef | None = None  # transfer, burn
    to_wallet: WalletRef | None = None  # mint, transfer
    memo: Memo = ""
    #: The same key twice (same caller, same project) returns the first request.
    idempotency_key: IdempotencyKey | None = None


class TokenDecision(Request):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), MULTI_LINE] = ""


class TokenApproval(Wire):
    approver_id: str
    approver_name: str = ""
    comment: str = ""
    created_at: datetime


class TokenRequest(Wire):
    id: str
    project_id: str
    kind: TokenOp
    amount: int
    from_wallet: str | None = None
    to_wallet: str | None = None
    memo: str = ""
    idempotency_key: str | None = None
    status: TokenRequestStatus
    requested_by: str | None = None
    requested_by_name: str = ""
    required_approvals: int = 1
    approvals: list[TokenApproval] = Field(default_factory=list[TokenApproval])
    created_at: datetime
    updated_at: datetime
    decided_by: str | None = None  # who rejected or cancelled
    decided_at: datetime | None = None
    comment: str = ""
    executed_by: str | None = None
    executed_at: datetime | None = None
    transaction_id: str | None = None
    failure_reason: str = ""


__all__ = [
    "MAX_AMOUNT",
    "MAX_SUPPLY",
    "WALLET_ADDRESS_PATTERN",
    "Posting",
    "ReadinessItem",
    "TokenApproval",
    "TokenBurn",
    "TokenDecision",
    "TokenMint",
    "TokenOp",
    "TokenRequest",
    "TokenRequestCreate",
    "TokenRequestStatus",
    "TokenSettings",
    "TokenSettingsUpdate",
    "TokenStatus",
    "TokenTransaction",
    "TokenTransfer",
    "TokenizationStatus",
    "Wallet",
    "WalletOwnerKind",
    "WalletUpsert",
]
