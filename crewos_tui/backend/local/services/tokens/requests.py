"""Token change requests: maker-checker approval, then execution exactly once.

States: ``pending → approved | rejected | cancelled`` and ``approved → executed |
failed``; the rest are terminal. The requester never approves their own request;
``required_approvals`` distinct approvers (fixed when the request is made) turn it
``approved``. A requester who "rejects" their own pending request cancels it.

Execution claims the request with a conditional UPDATE (``approved → executing``)
inside the write transaction: of two concurrent executes, the second finds it no
longer approved and gets Conflict, so one request makes one transaction (and the
ledger's unique ``request_id`` would refuse a second anyway). When balances or a
frozen wallet no longer allow the movement, the request is committed as
``failed`` with the reason, and the caller gets Conflict saying so.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, Invalid, NotFound
from ....principal import Principal
from ....schemas import Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.tokens import (
    TokenOp,
    TokenRequest,
    TokenRequestCreate,
    TokenRequestStatus,
)
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import (
    TokenApprovalRow,
    TokenRequestRow,
    TokenSettingsRow,
    TokenWalletRow,
)
from ..projects.access import ProjectAccess, load_project
from .common import holder_wallet, load_settings, request_model, request_models
from .ledger import Movement, check_shape
from .movements import move, owner_ids


def body_hash(data: TokenRequestCreate) -> str:
    body = [data.kind.value, data.amount, data.from_wallet, data.to_wallet, data.memo]
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


class TokenRequests:
    ctx: ServiceContext

    async def list_requests(
        self,
        principal: Principal,
        project_id: str,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
    ) -> Page[TokenRequest]:
        """Requests of a project, newest first; ``status`` filters by state."""
        if status is not None and status not in TokenRequestStatus.__members__:
            raise Invalid(f"status must be one of {', '.join(TokenRequestStatus.__members__)}")
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            stmt = select(TokenRequestRow).where(col(TokenRequestRow.project_id) == project_id)
            if status:
                stmt = stmt.where(col(TokenRequestRow.status) == status)
            page = await paginate(s, stmt, [col(TokenRequestRow.id)], lambda r: [r.id], lambda r: r,
                                  limit=limit, cursor=cursor, descending=True)
            return Page[TokenRequest](items=await request_models(s, page.items), next_cursor=page.next_cursor)

    @idempotent(TokenRequest)
    async def create_request(self, principal: Principal, project_id: str, data: TokenRequestCreate) -> TokenRequest:
        check_shape(data.kind, data.amount, data.from_wallet, data.to_wallet)
        digest = body_hash(data)
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("editor", principal, "requesting a token change")
            acc.writable()
            settings = await load_settings(s, project_id)
            if data.idempotency_key:
                earlier = await s.scalar(select(TokenRequestRow).where(
                    col(TokenRequestRow.project_id) == project_id,
                    col(TokenRequestRow.requested_by) == principal.user_id,
                    col(TokenRequestRow.idempotency_key) == data.idempotency_key))
                if earlier is not None:
                    if earlier.body_hash != digest:
                        raise Conflict(f"idempotency key {data.idempotency_key!r} was used for a different "
                                       f"request ({earlier.id}); use a new key for a new request")
                    return await request_model(s, earlier)
            source = await holder_wallet(s, project_id, data.from_wallet, "from") if data.from_wallet else None
            target = await holder_wallet(s, project_id, data.to_wallet, "to") if data.to_wallet else None
            if source is not None and target is not None and source.id == target.id:
                raise Invalid("a transfer needs two different wallets")
            for wallet in (source, target):
                if wallet is not None and wallet.frozen:
                    raise Conflict(f"wallet {wallet.address!r} is frozen: it can neither send nor receive")
            now = self.ctx.clock.now()
            row = TokenRequestRow(
                id=self.ctx.ids.new(), project_id=project_id, kind=data.kind.value, amount=data.amount,
                from_wallet_id=source.id if source else None, to_wallet_id=target.id if target else None,
                memo=data.memo, idempotency_key=data.idempotency_key, body_hash=digest, status="pending",
                requested_by=principal.user_id, requested_by_name=principal.username,
                required_approvals=settings.required_approvals, created_at=now, updated_at=now,
            )
            s.add(row)
            await self.ctx.events.emit(
                s, principal, "token.request_created", "token_request", row.id, project_id,
                **_about(row, settings),
                from_wallet=data.from_wallet, to_wallet=data.to_wallet, requester_id=principal.user_id,
                # who should be told "a token request awaits your approval"
                approver_ids=[a for a in settings.approver_ids if a != principal.user_id],
                wallet_owner_ids=owner_ids(source, target))
            return await request_model(s, row)

    # ---- decisions ---------------------------------------------------------------------

    async def _load(self, s: AsyncSession, project_id: str, request_id: str) -> TokenRequestRow:
        row = await s.get(TokenRequestRow, request_id, populate_existing=True)
        if row is None or row.project_id != project_id:
            raise NotFound(f"token request {request_id} not found")
        return row

    async def _approver_ids(self, s: AsyncSession, request_id: str) -> list[str]:
        return list(await s.scalars(select(col(TokenApprovalRow.approver_id)).where(
            col(TokenApprovalRow.request_id) == request_id).order_by(col(TokenApprovalRow.created_at))))

    async def approve_request(
        self, principal: Principal, project_id: str, request_id: str, comment: str = ""
    ) -> TokenRequest:
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.writable()
            settings = await load_settings(s, project_id)
            row = await self._load(s, project_id, request_id)
            if principal.user_id is not None and principal.user_id == row.requested_by:
                raise Forbidden("you cannot approve your own request: another approver must (maker-checker)")
            if principal.user_id not in settings.approver_ids:
                raise Forbidden("only the project's token approvers can approve requests")
            if row.status != "pending":
                raise Conflict(f"the request is {row.status}; only a pending request can be approved")
            if await s.get(TokenApprovalRow, (row.id, principal.user_id)) is not None:
                raise Conflict("you have already approved this request")
            now = self.ctx.clock.now()
            s.add(TokenApprovalRow(request_id=row.id, approver_id=principal.user_id, approver_name=principal.username,
                                   comment=comment, created_at=now))
            await s.flush()
            approvers = await self._approver_ids(s, row.id)
            row.updated_at = now
            done = len(approvers) >= row.required_approvals
            if done:
                row.status = "approved"
            await self.ctx.events.emit(
                s, principal, "token.request_approved" if done else "token.request_approval_added", "token_request",
                row.id, project_id, **_about(row, settings), requester_id=row.requested_by,
                approver_id=principal.user_id, approver_ids=approvers, approvals=len(approvers),
                required_approvals=row.required_approvals, comment=comment)
            return await request_model(s, row)

    async def reject_request(
        self, principal: Principal, project_id: str, request_id: str, comment: str = ""
    ) -> TokenRequest:
        """An approver (or owner, or admin) rejects a pending request; its requester cancels it."""
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.writable()
            settings = await load_settings(s, project_id)
            row = await self._load(s, project_id, request_id)
            own = principal.user_id is not None and principal.user_id == row.requested_by
            if not own and not (principal.user_id in settings.approver_ids or _is_owner(acc, principal)):
                raise Forbidden("only the project's token approvers, its owner or the requester can reject a request")
            if row.status != "pending":
                raise Conflict(f"the request is {row.status}; only a pending request can be "
                               f"{'cancelled' if own else 'rejected'}")
            now = self.ctx.clock.now()
            row.status = "cancelled" if own else "rejected"
            row.decided_by, row.decided_at, row.comment, row.updated_at = principal.user_id, now, comment, now
            await self.ctx.events.emit(
                s, principal, f"token.request_{row.status}", "token_request", row.id, project_id,
                **_about(row, settings), requester_id=row.requested_by, decided_by=principal.user_id,
                approver_ids=await self._approver_ids(s, row.id), comment=comment)
            return await request_model(s, row)

    async def execute_request(self, principal: Principal, project_id: str, request_id: str) -> TokenRequest:
        failure: str | None = None
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.writable()
            settings = await load_settings(s, project_id)
            row = await self._load(s, project_id, request_id)
            if not (principal.user_id == row.requested_by or principal.user_id in settings.approver_ids
                    or _is_owner(acc, principal)):
                raise Forbidden("only the requester, a token approver or the project owner can execute a request")
            now = self.ctx.clock.now()
            claimed = cast(CursorResult[Any], await s.execute(
                update(TokenRequestRow)
                .where(col(TokenRequestRow.id) == request_id, col(TokenRequestRow.status) == "approved")
                .values(status="executing", updated_at=now)))
            if claimed.rowcount != 1:
                row = await self._load(s, project_id, request_id)
                already = " (it already ran)" if row.status in ("executed", "failed") else ""
                raise Conflict(f"the request is {row.status}{already}; only an approved request can be executed")
            row = await self._load(s, project_id, request_id)
            approvers = await self._approver_ids(s, row.id)
            movement = Movement(kind=TokenOp(row.kind), amount=row.amount,
                                source=await self._wallet(s, row.from_wallet_id),
                                target=await self._wallet(s, row.to_wallet_id))
            people = {"requester_id": row.requested_by, "approver_ids": approvers, "executed_by": principal.user_id}
            try:
                # move() checks everything before it writes: a refusal leaves only the failed state.
                tx = await move(self.ctx, s, principal, settings, movement, memo=row.memo, request_id=row.id,
                                direct=False, **people)
            except Conflict as exc:
                failure = exc.detail
                row.status, row.failure_reason = "failed", failure
                await self.ctx.events.emit(s, principal, "token.request_failed", "token_request", row.id, project_id,
                                           **_about(row, settings), reason=failure, **people)
            else:
                row.status, row.transaction_id = "executed", tx.id
                row.executed_by, row.executed_at = principal.user_id, now
                await self.ctx.events.emit(s, principal, "token.request_executed", "token_request", row.id,
                                           project_id, **_about(row, settings), transaction_id=tx.id,
                                           wallet_owner_ids=owner_ids(movement.source, movement.target), **people)
            row.updated_at = now
            result = await request_model(s, row)
        if failure is not None:
            raise Conflict(f"execution failed and the request is now failed: {failure}")
        return result

    @staticmethod
    async def _wallet(s: AsyncSession, wallet_id: str | None) -> TokenWalletRow | None:
        return await s.get(TokenWalletRow, wallet_id) if wallet_id else None


def _about(row: TokenRequestRow, settings: TokenSettingsRow) -> dict[str, object]:
    """What every request event says about the request (amount in smallest units, and how to show it)."""
    return {"op": row.kind, "amount": row.amount, "symbol": settings.symbol, "decimals": settings.decimals,
            "memo": row.memo}


def _is_owner(acc: ProjectAccess, principal: Principal) -> bool:
    return principal.is_admin or acc.role == "owner"

