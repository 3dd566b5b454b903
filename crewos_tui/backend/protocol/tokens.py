"""What the Backend offers for project tokenization: an append-only, double-entry
token ledger per project, with maker-checker token change requests.

Amounts are integers in the token's smallest unit. Viewers read; editors request;
configured approvers (never the requester) approve; the owner defines the token
and manages wallets.
"""

from __future__ import annotations

from typing import Protocol

from ..schemas import Page
from ..schemas.common import DEFAULT_LIMIT
from ..schemas.tokens import (
    TokenBurn,
    TokenizationStatus,
    TokenMint,
    TokenRequest,
    TokenRequestCreate,
    TokenSettings,
    TokenSettingsUpdate,
    TokenStatus,
    TokenTransaction,
    TokenTransfer,
    Wallet,
    WalletUpsert,
)


class TokenizationAPI(Protocol):
    async def status(self, project_id: str) -> TokenizationStatus:
        """Readiness: what the project still needs before tokens can move (a checklist)."""
        ...

    async def configure(self, project_id: str, data: TokenSettingsUpdate) -> TokenSettings:
        """Define or change the token (symbol, decimals) and its approval policy (owner or admin)."""
        ...

    async def list_wallets(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Wallet]:
        """The project's wallets by address, with their balances."""
        ...

    async def upsert_wallet(self, project_id: str, wallet_address: str, data: WalletUpsert) -> Wallet:
        """Create or update a wallet: label, owner (a member or the project treasury), frozen."""
        ...

    async def token_status(self, project_id: str) -> TokenStatus:
        """Supply, minted, burned, holders, per-wallet balances and the last transaction."""
        ...

    async def list_transactions(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, wallet: str | None = None
    ) -> Page[TokenTransaction]:
        """The ledger, newest first (``wallet``: only transactions that touched it)."""
        ...

    async def list_requests(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[TokenRequest]:
        """Token change requests, newest first; ``status`` filters by state."""
        ...

    async def create_request(self, project_id: str, data: TokenRequestCreate) -> TokenRequest:
        """Request a mint, transfer or burn (editor or owner); an idempotency key replays the first."""
        ...

    async def approve_request(self, project_id: str, request_id: str, comment: str = "") -> TokenRequest:
        """Approve a pending request (a configured approver who is not its requester)."""
        ...

    async def reject_request(self, project_id: str, request_id: str, comment: str = "") -> TokenRequest:
        """Reject a pending request; its own requester cancels it this way."""
        ...

    async def execute_request(self, project_id: str, request_id: str) -> TokenRequest:
        """Carry out an approved request exactly once; Conflict if it is not approved, or if
        balances no longer allow it (the request is then left ``failed`` with the reason)."""
        ...

    async def mint(self, project_id: str, data: TokenMint) -> TokenTransaction:
        """Mint without a request (admins or the owner, when the project's policy allows)."""
        ...

    async def transfer(self, project_id: str, data: TokenTransfer) -> TokenTransaction:
        """Transfer without a request (admins or the owner, when the project's policy allows)."""
        ...

    async def burn(self, project_id: str, data: TokenBurn) -> TokenTransaction:
        """Burn without a request (admins or the owner, when the project's policy allows)."""
        ...
