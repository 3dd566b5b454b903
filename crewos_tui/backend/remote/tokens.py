"""Project tokenization over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from .http import API, _model, _page, _paging, _seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteTokenization:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _p(project_id: str, *rest: str) -> str:
        return "/".join([f"{API}/projects", _seg(project_id), "tokenization", *rest])

    async def status(self, project_id: str) -> TokenizationStatus:
        return _model(TokenizationStatus, await self._b.request("GET", self._p(project_id, "status")))

    async def configure(self, project_id: str, data: TokenSettingsUpdate) -> TokenSettings:
        payload = await self._b.request("PUT", self._p(project_id, "settings"), json=data.model_dump(mode="json"))
        return _model(TokenSettings, payload)

    async def list_wallets(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Wallet]:
        payload = await self._b.request("GET", self._p(project_id, "wallets"), params=_paging(limit, cursor))
        return _page(Wallet, payload)

    async def upsert_wallet(self, project_id: str, wallet_address: str, data: WalletUpsert) -> Wallet:
        payload = await self._b.request("PUT", self._p(project_id, "wallets", _seg(wallet_address)),
                                        json=data.model_dump(mode="json"))
        return _model(Wallet, payload)

    async def token_status(self, project_id: str) -> TokenStatus:
        return _model(TokenStatus, await self._b.request("GET", self._p(project_id, "token", "status")))

    async def list_transactions(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, wallet: str | None = None
    ) -> Page[TokenTransaction]:
        payload = await self._b.request("GET", self._p(project_id, "token", "transactions"),
                                        params=_paging(limit, cursor, wallet=wallet))
        return _page(TokenTransaction, payload)

    async def list_requests(
        self, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[TokenRequest]:
        payload = await self._b.request("GET", self._p(project_id, "token-requests"),
                                        params=_paging(limit, cursor, status=status))
        return _page(TokenRequest, payload)

    async def create_request(self, project_id: str, data: TokenRequestCreate) -> TokenRequest:
        payload = await self._b.request("POST", self._p(project_id, "token-requests"),
                                        json=data.model_dump(mode="json", exclude_none=True))
        return _model(TokenRequest, payload)

    async def _decide(self, project_id: str, request_id: str, action: str, body: dict | None) -> TokenRequest:
        path = self._p(project_id, "token-requests", _seg(request_id), action)
        payload = await self._b.request("POST", path, **({"json": body} if body is not None else {}))
        return _model(TokenRequest, payload)

    async def approve_request(self, project_id: str, request_id: str, comment: str = "") -> TokenRequest:
        return await self._decide(project_id, request_id, "approve", {"comment": comment})

    async def reject_request(self, project_id: str, request_id: str, comment: str = "") -> TokenRequest:
        return await self._decide(project_id, request_id, "reject", {"comment": comment})

    async def execute_request(self, project_id: str, request_id: str) -> TokenRequest:
        return await self._decide(project_id, request_id, "execute", None)

    async def _move(self, project_id: str, action: str, data: TokenMint | TokenTransfer | TokenBurn
                    ) -> TokenTransaction:
        payload = await self._b.request("POST", self._p(project_id, "token", action), json=data.model_dump(mode="json"))
        return _model(TokenTransaction, payload)

    async def mint(self, project_id: str, data: TokenMint) -> TokenTransaction:
        return await self._move(project_id, "mint", data)

    async def transfer(self, project_id: str, data: TokenTransfer) -> TokenTransaction:
        return await self._move(project_id, "transfer", data)

    async def burn(self, project_id: str, data: TokenBurn) -> TokenTransaction:
        return await self._move(project_id, "burn", data)
