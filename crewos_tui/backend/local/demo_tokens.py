"""Demo data for project tokenization: Atlas Launch has a token (ATL, 2 decimals)
with a treasury, member wallets, a history of executed requests and direct
operations, and requests in every state for the demo user (maya) to act on —
including one of her own, which she cannot approve. Harbor Research has none, so
its readiness checklist shows what is missing."""

from __future__ import annotations

from typing import Any

from ..principal import Principal
from ..schemas.tokens import (
    TokenMint,
    TokenOp,
    TokenRequestCreate,
    TokenSettingsUpdate,
    WalletOwnerKind,
    WalletUpsert,
)
from .services import Services

UNIT = 100  # ATL has 2 decimals: 1 ATL = 100 units

#: (requester, kind, amount in ATL, from, to, memo, approver, executor) — executed in this order.
HISTORY: list[tuple[str, str, int, str | None, str | None, str, str, str]] = [
    ("maya", "mint", 250_000, None, "atlas-treasury", "Initial allocation for the 1.0 programme", "priya", "maya"),
    ("devon", "transfer", 12_500, "atlas-treasury", "devon", "Beta milestone: durable jobs", "maya", "devon"),
    ("priya", "transfer", 8_000, "atlas-treasury", "priya", "QA sprint 1", "maya", "priya"),
    ("devon", "transfer", 6_250, "atlas-treasury", "devon", "Review queue shipped", "priya", "devon"),
    ("maya", "burn", 5_000, "atlas-treasury", None, "Unused contractor budget returned", "priya", "maya"),
    ("priya", "transfer", 9_500, "atlas-treasury", "priya", "QA sprint 2", "maya", "priya"),
    ("devon", "transfer", 2_000, "devon", "priya", "Pairing on the CLI", "maya", "devon"),
    ("devon", "transfer", 15_000, "atlas-treasury", "devon", "Release candidate cut", "priya", "maya"),
    ("priya", "transfer", 11_000, "atlas-treasury", "priya", "Customer pilot support", "maya", "priya"),
]


async def _seed_tokens(svc: Services, as_: dict[str, Principal], users: dict[str, Any],
                       projects: dict[str, Any]) -> None:
    t = svc.tokenization
    atlas = projects["Atlas Launch"].id
    maya = as_["maya"]
    await t.configure(maya, atlas, TokenSettingsUpdate(
        symbol="ATL", name="Atlas credit", decimals=2, required_approvals=1,
        approver_ids=[users["maya"].id, users["priya"].id], allow_direct_operations=True,
        confirm_threshold=100_000 * UNIT))
    await t.upsert_wallet(maya, atlas, "atlas-treasury", WalletUpsert(label="Programme treasury",
                                                                      owner_kind=WalletOwnerKind.treasury))
    for name, label in [("maya", "Maya"), ("devon", "Devon"), ("priya", "Priya"), ("sam", "Sam (steering)")]:
        await t.upsert_wallet(maya, atlas, name, WalletUpsert(label=label, owner_user_id=users[name].id,
                                                              frozen=name == "sam"))

    async def request(who: str, kind: str, amount: int, source: str | None, target: str | None, memo: str) -> Any:
        return await t.create_request(as_[who], atlas, TokenRequestCreate(
            kind=TokenOp(kind), amount=amount * UNIT, from_wallet=source, to_wallet=target, memo=memo))

    for i, (who, kind, amount, source, target, memo, approver, executor) in enumerate(HISTORY):
        req = await request(who, kind, amount, source, target, memo)
        await t.approve_request(as_[approver], atlas, req.id, "Looks right.")
        await t.execute_request(as_[executor], atlas, req.id)
        if i == 3:  # a direct top-up by the owner between requests
            await t.mint(maya, atlas, TokenMint(to_wallet="atlas-treasury", amount=50_000 * UNIT,
                                                memo="Q2 top-up (direct)"))

    # Decided but not carried out: one rejected, one approved and waiting to execute.
    travel = await request("devon", "transfer", 4_000, "atlas-treasury", "devon", "Conference travel")
    await t.reject_request(as_["priya"], atlas, travel.id, "Travel comes from the events budget.")
    ready = await request("priya", "transfer", 3_000, "atlas-treasury", "priya", "Load-test tooling")
    await t.approve_request(maya, atlas, ready.id, "Approved.")
    # Waiting for a decision: maya may approve devon's; her own burn needs priya.
    await request("devon", "transfer", 900_000, "atlas-treasury", "devon", "Everything, please (too much)")
    await request("maya", "burn", 30_000, "atlas-treasury", None, "Retire the unallocated reserve")
    await request("devon", "transfer", 20_000, "atlas-treasury", "devon", "Docs site bounty")
