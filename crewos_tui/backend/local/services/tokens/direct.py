"""Direct mint, transfer and burn: no request, for admins and the project owner,
only where the project's policy allows it. They still make a ledger transaction
and the same events as an executed request."""

from __future__ import annotations

from ....errors import Forbidden
from ....principal import Principal
from ....schemas.tokens import (
    TokenBurn,
    TokenMint,
    TokenOp,
    TokenTransaction,
    TokenTransfer,
)
from ...context import ServiceContext
from ...idempotency import idempotent
from ..projects.access import load_project
from .common import holder_wallet, load_settings
from .ledger import Movement, check_shape
from .movements import move
from .reads import history_page


class TokenDirect:
    ctx: ServiceContext

    @idempotent(TokenTransaction)
    async def mint(self, principal: Principal, project_id: str, data: TokenMint) -> TokenTransaction:
        return await self._direct(principal, project_id, TokenOp.mint, data.amount, None, data.to_wallet, data.memo)

    @idempotent(TokenTransaction)
    async def transfer(self, principal: Principal, project_id: str, data: TokenTransfer) -> TokenTransaction:
        return await self._direct(principal, project_id, TokenOp.transfer, data.amount, data.from_wallet,
                                  data.to_wallet, data.memo)

    @idempotent(TokenTransaction)
    async def burn(self, principal: Principal, project_id: str, data: TokenBurn) -> TokenTransaction:
        return await self._direct(principal, project_id, TokenOp.burn, data.amount, data.from_wallet, None,
                                  data.memo)

    async def _direct(
        self, principal: Principal, project_id: str, kind: TokenOp, amount: int,
        source: str | None, target: str | None, memo: str,
    ) -> TokenTransaction:
        check_shape(kind, amount, source, target)
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            if not (principal.is_admin or acc.role == "owner"):
                raise Forbidden(f"a direct {kind.value} is for admins and the project owner; "
                                "create a token request instead")
            acc.writable()
            settings = await load_settings(s, project_id)
            if not settings.allow_direct:
                raise Forbidden(f"this project's policy requires a token request for every movement "
                                f"(direct {kind.value} is off)")
            movement = Movement(
                kind=kind, amount=amount,
                source=await holder_wallet(s, project_id, source, "from") if source else None,
                target=await holder_wallet(s, project_id, target, "to") if target else None,
            )
            tx = await move(self.ctx, s, principal, settings, movement, memo=memo, direct=True,
                            actor_id=principal.user_id)
            await s.flush()
            items, _ = await history_page(s, project_id, 1, tx.seq + 1)
            return items[0]
