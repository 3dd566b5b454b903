"""Token settings, readiness and wallets."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas import Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.tokens import (
    ReadinessItem,
    TokenizationStatus,
    TokenSettings,
    TokenSettingsUpdate,
    Wallet,
    WalletOwnerKind,
    WalletUpsert,
)
from ...context import ServiceContext
from ...pagination import paginate
from ...tables import (
    ProjectMemberRow,
    TokenSettingsRow,
    TokenTransactionRow,
    TokenWalletRow,
    UserRow,
)
from ...tables.tokens import HOLDER_KINDS, SYSTEM_ADDRESSES
from ..projects.access import load_project
from .common import clean_address, settings_model, wallet_model, wallet_select


class TokenSetup:
    ctx: ServiceContext

    # ---- readiness -------------------------------------------------------------------

    async def status(self, principal: Principal, project_id: str) -> TokenizationStatus:
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            settings = await s.get(TokenSettingsRow, project_id)
            counts = dict((await s.execute(
                select(col(TokenWalletRow.kind), func.count()).where(
                    col(TokenWalletRow.project_id) == project_id, col(TokenWalletRow.kind).in_(HOLDER_KINDS))
                .group_by(col(TokenWalletRow.kind)))).all())
            approvers = await self._member_approvers(s, project_id, settings)
        wallets = sum(counts.values())
        needed = settings.required_approvals if settings else 1
        checklist = [
            ReadinessItem(key="token", label="Token defined", done=settings is not None,
                          detail=f"{settings.symbol}, {settings.decimals} decimals" if settings
                          else "the project owner sets a symbol and decimals"),
            ReadinessItem(key="wallet", label="At least one wallet", done=wallets > 0,
                          detail=f"{wallets} wallet{'s' if wallets != 1 else ''}"),
            ReadinessItem(key="treasury", label="A treasury wallet", done=counts.get("treasury", 0) > 0,
                          detail=f"{counts.get('treasury', 0)} treasury wallet(s)"),
            ReadinessItem(key="approvers", label="Approvers configured", done=len(approvers) >= needed,
                          detail=f"{len(approvers)} approver(s) for {needed} required approval(s)"),
        ]
        return TokenizationStatus(project_id=project_id, ready=all(i.done for i in checklist), checklist=checklist,
                                  settings=settings_model(settings) if settings else None)

    @staticmethod
    async def _member_approvers(s: AsyncSession, project_id: str, settings: TokenSettingsRow | None) -> list[str]:
        """Configured approvers who are still members of the project."""
        if settings is None or not settings.approver_ids:
            return []
        found = await s.scalars(select(col(ProjectMemberRow.user_id)).where(
            col(ProjectMemberRow.project_id) == project_id, col(ProjectMemberRow.user_id).in_(settings.approver_ids)))
        return list(found)

    # ---- settings --------------------------------------------------------------------

    async def configure(self, principal: Principal, project_id: str, data: TokenSettingsUpdate) -> TokenSettings:
        """Define or change the project's token and approval policy (owner or admin)."""
        approver_ids = list(dict.fromkeys(data.approver_ids))
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("owner", principal, "configuring the project token")
            acc.writable()
            members = set(await s.scalars(select(col(ProjectMemberRow.user_id)).where(
                col(ProjectMemberRow.project_id) == project_id, col(ProjectMemberRow.user_id).in_(approver_ids))))
            strangers = [a for a in approver_ids if a not in members]
            if strangers:
                raise Invalid(f"approver_ids: {', '.join(strangers)} {'is' if len(strangers) == 1 else 'are'} "
                              "not a member of this project")
            now = self.ctx.clock.now()
            row = await s.get(TokenSettingsRow, project_id)
            created = row is None
            if row is None:
                row = TokenSettingsRow(project_id=project_id, symbol=data.symbol, created_at=now, updated_at=now)
                s.add(row)
                for kind, address in SYSTEM_ADDRESSES.items():
                    s.add(TokenWalletRow(id=self.ctx.ids.new(), project_id=project_id, address=address,
                                         label=f"system {kind} account", kind=kind, created_at=now, updated_at=now))
            elif data.decimals != row.decimals and await s.scalar(
                    select(col(TokenTransactionRow.id))
                    .where(col(TokenTransactionRow.project_id) == project_id).limit(1)):
                # Decimals say what an amount means to people: changing them under a
                # ledger would silently rescale every balance on screen.
                raise Conflict(f"decimals are fixed once tokens have moved (they are {row.decimals})")
            row.symbol, row.name, row.decimals = data.symbol, data.name, data.decimals
            row.required_approvals, row.approver_ids = data.required_approvals, approver_ids
            row.allow_direct, row.confirm_threshold, row.updated_at = (
                data.allow_direct_operations, data.confirm_threshold, now)
            await self.ctx.events.emit(
                s, principal, "token.settings_created" if created else "token.settings_updated", "token_settings",
                project_id, project_id, symbol=row.symbol, decimals=row.decimals,
                required_approvals=row.required_approvals, approver_ids=approver_ids,
                allow_direct_operations=row.allow_direct)
            return settings_model(row)

    # ---- wallets ---------------------------------------------------------------------

    async def list_wallets(
        self, principal: Principal, project_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Wallet]:
        async with self.ctx.db.read() as s:
            await load_project(s, principal, project_id)
            stmt = wallet_select().where(col(TokenWalletRow.project_id) == project_id)
            return await paginate(s, stmt, [col(TokenWalletRow.address)], lambda r: [r[0].address],
                                  lambda r: wallet_model(r[0], r[1]), limit=limit, cursor=cursor)

    async def upsert_wallet(
        self, principal: Principal, project_id: str, wallet_address: str, data: WalletUpsert
    ) -> Wallet:
        """Create or update a wallet (owner or admin). The token must be defined first."""
        address = clean_address(wallet_address)
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, project_id)
            acc.at_least("owner", principal, "managing token wallets")
            acc.writable()
            if await s.get(TokenSettingsRow, project_id) is None:
                raise Conflict("define the project token before adding wallets")
            owner = await self._wallet_owner(s, principal, project_id, data)
            now = self.ctx.clock.now()
            row = await s.scalar(select(TokenWalletRow).where(
                col(TokenWalletRow.project_id) == project_id, col(TokenWalletRow.address) == address))
            if row is not None and row.kind not in HOLDER_KINDS:
                raise Conflict(f"{address!r} is a system account")
            if row is None:
                row = TokenWalletRow(id=self.ctx.ids.new(), project_id=project_id, address=address, label=data.label,
                                     kind=data.owner_kind.value, owner_user_id=owner.id if owner else None,
                                     frozen=data.frozen, created_at=now, updated_at=now)
                s.add(row)
                kind, changed = "token.wallet_created", ["address"]
            else:
                changed = [name for name, old, new in (
                    ("label", row.label, data.label), ("owner_kind", row.kind, data.owner_kind.value),
                    ("owner_user_id", row.owner_user_id, owner.id if owner else None),
                    ("frozen", row.frozen, data.frozen)) if old != new]
                row.label, row.kind, row.frozen = data.label, data.owner_kind.value, data.frozen
                row.owner_user_id = owner.id if owner else None
                if changed:
                    row.updated_at = now
                kind = "token.wallet_updated"
            if changed:
                await self.ctx.events.emit(s, principal, kind, "token_wallet", address, project_id, address=address,
                                           owner_user_id=row.owner_user_id, owner_kind=row.kind, frozen=row.frozen,
                                           changed=changed)
            return wallet_model(row, owner.username if owner else None)

    @staticmethod
    async def _wallet_owner(
        s: AsyncSession, principal: Principal, project_id: str, data: WalletUpsert
    ) -> UserRow | None:
        if data.owner_kind == WalletOwnerKind.treasury:
            if data.owner_user_id:
                raise Invalid("a treasury wallet belongs to the project: leave owner_user_id empty")
            return None
        user_id = data.owner_user_id or principal.user_id
        if user_id is None:
            raise Invalid("owner_user_id: a user wallet needs its owner")
        user = await s.get(UserRow, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        is_member = await s.scalar(select(col(ProjectMemberRow.user_id)).where(
            col(ProjectMemberRow.project_id) == project_id, col(ProjectMemberRow.user_id) == user_id))
        if is_member is None:
            raise Invalid(f"owner_user_id: {user.username} is not a member of this project")
        return user
