"""A tokenized project for the contract tests: an owner, an editor who makes
requests, two approvers and a viewer, a token, a treasury and user wallets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.backend.schemas.projects import ProjectRole
from crewos_tui.backend.schemas.tokens import (
    TokenRequestCreate,
    TokenSettingsUpdate,
    WalletUpsert,
)

from ..conftest import unique


@dataclass
class Ledger:
    project_id: str
    owner: Any  # backends, each acting as one user
    editor: Any
    approver: Any
    approver2: Any
    viewer: Any
    users: dict[str, Any]  # name -> UserInfo

    async def request(self, kind: str, amount: int, *, by: Any = None, from_wallet: str | None = None,
                      to_wallet: str | None = None, memo: str = "", key: str | None = None) -> Any:
        data = TokenRequestCreate(kind=kind, amount=amount, from_wallet=from_wallet, to_wallet=to_wallet, memo=memo,
                                  idempotency_key=key)
        return await (by or self.editor).tokenization.create_request(self.project_id, data)

    async def run(self, kind: str, amount: int, **kw: Any) -> Any:
        """Request, approve and execute: the whole maker-checker path."""
        req = await self.request(kind, amount, **kw)
        await self.approver.tokenization.approve_request(self.project_id, req.id)
        return await self.editor.tokenization.execute_request(self.project_id, req.id)

    async def balances(self) -> dict[str, int]:
        status = await self.viewer.tokenization.token_status(self.project_id)
        return {w.address: w.balance for w in status.wallets}


async def ledger_project(world: Any, *, decimals: int = 2, required: int = 1, direct: bool = False,
                         threshold: int = 0, configure: bool = True) -> Ledger:
    names = ["owner", "editor", "approver", "approver2", "viewer"]
    # A team of its own: the live server is shared by all contract tests, and its "default"
    # team must not fill up with ledger users.
    team = unique("ledger-team-")
    users = {n: await world.user(team=team) for n in names}
    owner = await world.as_(users["owner"])
    project = await owner.projects.create(ProjectCreate(name=unique("Ledger ")))
    for name, role in [("editor", "editor"), ("approver", "editor"), ("approver2", "editor"), ("viewer", "viewer")]:
        await owner.projects.upsert_member(project.id, users[name].id, ProjectRole(role))
    backends = {n: owner if n == "owner" else await world.as_(users[n]) for n in names}
    ledger = Ledger(project.id, users=users, **backends)
    if configure:
        await owner.tokenization.configure(project.id, TokenSettingsUpdate(
            symbol="CRW", name="Crew token", decimals=decimals, required_approvals=required,
            approver_ids=[users["approver"].id, users["approver2"].id], allow_direct_operations=direct,
            confirm_threshold=threshold))
        await owner.tokenization.upsert_wallet(project.id, "treasury", WalletUpsert(label="Treasury",
                                                                                     owner_kind="treasury"))
        for name in ("editor", "approver"):
            await owner.tokenization.upsert_wallet(project.id, f"{name}-wallet", WalletUpsert(
                label=name.title(), owner_user_id=users[name].id))
    return ledger
