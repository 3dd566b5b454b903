"""Project tokenization: /api/v1/projects/{project_id}/tokenization/...

The map's twelve routes, plus two it leaves to us (documented in /openapi.json):
``PUT .../tokenization/settings`` defines the token and its approval policy, and
``GET .../tokenization/token/transactions`` pages through the ledger.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from ...schemas import Page
from ...schemas.tokens import (
    TokenBurn,
    TokenDecision,
    TokenizationStatus,
    TokenMint,
    TokenRequest,
    TokenRequestCreate,
    TokenRequestStatus,
    TokenSettings,
    TokenSettingsUpdate,
    TokenStatus,
    TokenTransaction,
    TokenTransfer,
    Wallet,
    WalletUpsert,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/projects/{project_id}/tokenization", tags=["tokenization"],
                   responses=AUTHED_ERRORS)
Decision = Annotated[TokenDecision | None, Body()]


@router.get("/status", response_model=TokenizationStatus,
            summary="Read project tokenization readiness status")
async def readiness(project_id: str, services: ServicesDep, principal: Caller) -> TokenizationStatus:
    return await services.tokenization.status(principal, project_id)


@router.put("/settings", response_model=TokenSettings,
            summary="Define the project token and its approval policy")
async def configure(project_id: str, body: TokenSettingsUpdate, services: ServicesDep,
                    principal: Caller) -> TokenSettings:
    return await services.tokenization.configure(principal, project_id, body)


@router.get("/wallets", response_model=Page[Wallet], summary="List project token wallets")
async def list_wallets(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[Wallet]:
    return await services.tokenization.list_wallets(principal, project_id, limit=limit, cursor=cursor)


@router.put("/wallets/{wallet_address}", response_model=Wallet,
            summary="Create or update a project token wallet")
async def upsert_wallet(project_id: str, wallet_address: str, body: WalletUpsert, services: ServicesDep,
                        principal: Caller) -> Wallet:
    return await services.tokenization.upsert_wallet(principal, project_id, wallet_address, body)


@router.get("/token/status", response_model=TokenStatus, summary="Read token ledger status")
async def token_status(project_id: str, services: ServicesDep, principal: Caller) -> TokenStatus:
    return await services.tokenization.token_status(principal, project_id)


@router.get("/token/transactions", response_model=Page[TokenTransaction],
            summary="List ledger transactions, newest first")
async def list_transactions(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
    wallet: Annotated[str | None, Query(max_length=66, description="Only transactions touching this wallet.")] = None,
) -> Page[TokenTransaction]:
    return await services.tokenization.list_transactions(principal, project_id, limit=limit, cursor=cursor,
                                                         wallet=wallet)


@router.get("/token-requests", response_model=Page[TokenRequest],
            summary="List token change requests")
async def list_requests(
    project_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None, status: TokenRequestStatus | None = None,
) -> Page[TokenRequest]:
    return await services.tokenization.list_requests(principal, project_id, limit=limit, cursor=cursor,
                                                     status=status.value if status else None)


@router.post("/token-requests", status_code=201, response_model=TokenRequest,
             summary="Create a token mint, transfer, or burn request")
async def create_request(project_id: str, body: TokenRequestCreate, services: ServicesDep,
                         principal: Caller) -> TokenRequest:
    return await services.tokenization.create_request(principal, project_id, body)


@router.post("/token-requests/{request_id}/approve", response_model=TokenRequest,
             summary="Approve a token change request")
async def approve_request(project_id: str, request_id: str, services: ServicesDep, principal: Caller,
                          body: Decision = None) -> TokenRequest:
    return await services.tokenization.approve_request(principal, project_id, request_id,
                                                       body.comment if body else "")


@router.post("/token-requests/{request_id}/reject", response_model=TokenRequest,
             summary="Reject a token change request (its requester cancels it)")
async def reject_request(project_id: str, request_id: str, services: ServicesDep, principal: Caller,
                         body: Decision = None) -> TokenRequest:
    return await services.tokenization.reject_request(principal, project_id, request_id,
                                                      body.comment if body else "")


@router.post("/token-requests/{request_id}/execute", response_model=TokenRequest,
             summary="Execute an approved token change request")
async def execute_request(project_id: str, request_id: str, services: ServicesDep, principal: Caller) -> TokenRequest:
    return await services.tokenization.execute_request(principal, project_id, request_id)


@router.post("/token/mint", status_code=201, response_model=TokenTransaction,
             summary="Directly mint project tokens when permitted")
async def mint(project_id: str, body: TokenMint, services: ServicesDep, principal: Caller) -> TokenTransaction:
    return await services.tokenization.mint(principal, project_id, body)


@router.post("/token/transfer", status_code=201, response_model=TokenTransaction,
             summary="Directly transfer project tokens when permitted")
async def transfer(project_id: str, body: TokenTransfer, services: ServicesDep, principal: Caller) -> TokenTransaction:
    return await services.tokenization.transfer(principal, project_id, body)


@router.post("/token/burn", status_code=201, response_model=TokenTransaction,
             summary="Directly burn project tokens when permitted")
async def burn(project_id: str, body: TokenBurn, services: ServicesDep, principal: Caller) -> TokenTransaction:
    return await services.tokenization.burn(principal, project_id, body)
