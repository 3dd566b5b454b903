"""Project tokenization over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from .http import API, NO_BODY, as_model, as_page, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteTokenization:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _p(project_id: str, *rest: str) -> str:
        return "/".join([f"{API}/projects", seg(project_id), "tokenization", *rest])

    async def status(self, project_id: str) -> TokenizationStatus:
        return as_model(TokenizationStatus, await self._b.request("GET", self._p(project_id, "status")))

    async def configure(self, project_id: str, data: TokenSettingsUpdate) -> TokenSettings:
        payload = await self._b.request("PUT", self._p(project_id, "settings"), json=data.model_dump(mode="json"))
        return as_model(TokenSettings, payload)

    async def list_wallets(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Wallet]:
        payload = await self._b.request("GET", self._p(project_id, "wallets"), params=paging(limit, cursor))
        return as_page(Wallet, payload)

    async def upsert_wallet(self, project_id: str, wallet_address: str, data: WalletUpsert) -> Wallet:
        payload = await self._b.request("PUT", self._p(project_id, "wallets", seg(wallet_address)),
                                        json=data.model_dump(mode="json"))
        return as_model(Wallet, payload)

    async def token_status(self, project_id: str) -> TokenStatus:
        return as_model(TokenStatus, await self._b.request("GET", self._p(project_id, "token", "status")))

    async def list_transactions(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, wallet: str | None = None
    ) -> Page[TokenTransaction]:
        payload = await self._b.request("GET", self._p(project_id, "token", "transactions"),
                                        params=paging(limit, cursor, wallet=wallet))
        return as_page(TokenTransaction, payload)

    async def list_requests(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[TokenRequest]:
        payload = await self._b.request("GET", self._p(project_id, "token-requests"),
                                        params=paging(limit, cursor, status=status))
        return as_page(TokenRequest, payload)

    async def create_request(self, project_id: str, data: TokenRequestCreate) -> TokenRequest:
        payload = await self._b.create(self._p(project_id, "token-requests"),
                                       json=data.model_dump(mode="json", exclude_none=True))
        return as_model(TokenRequest, payload)

    async def _decide(self, project_id: str, request_id: str, action: str, body: dict[str, Any] | None
                      ) -> TokenRequest:
        path = self._p(project_id, "token-requests", seg(request_id), action)
        payload = await self._b.request("POST", path, json=NO_BODY if body is None else body)
        return as_model(TokenRequest, payload)

    async def approve_request(self, project_id: str, request_id: str, comment: str = "") -> TokenRequest:
        return await self._decide(project_id, request_id, "approve", {"comment": comment})

    async def reject_request(self, project_id: str, request_id: str, comment: str = "") -> TokenRequest:
        return await self._decide(project_id, request_id, "reject", {"comment": comment})

    async def execute_request(self, project_id: str, request_id: str) -> TokenRequest:
        return await self._decide(project_id, request_id, "execute", None)

    async def _move(self, project_id: str, action: str, data: TokenMint | TokenTransfer | TokenBurn
                    ) -> TokenTransaction:
        payload = await self._b.create(self._p(project_id, "token", action), json=data.model_dump(mode="json"))
        return as_model(TokenTransaction, payload)

    async def mint(self, project_id: str, data: TokenMint) -> TokenTransaction:
        return await self._move(project_id, "mint", data)

    async def transfer(self, project_id: str, data: TokenTransfer) -> TokenTransaction:
        return await self._move(project_id, "transfer", data)

    async def burn(self, project_id: str, data: TokenBurn) -> TokenTransaction:
        return await self._move(project_id, "burn", data)
