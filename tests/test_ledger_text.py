"""The ledger screen's text helpers: the impact preview, who may act, chart series."""

from __future__ import annotations

from datetime import UTC, datetime

from crewos_tui.backend.schemas.tokens import (
    TokenApproval,
    TokenRequest,
    TokenStatus,
    Wallet,
)
from crewos_tui.widgets.ledger_text import (
    Units,
    approve_refusal,
    execute_refusal,
    impact_of,
    step_series,
)

T = datetime(2026, 1, 1, tzinfo=UTC)


def wallet(address: str, balance: int, frozen: bool = False) -> Wallet:
    return Wallet(address=address, owner_kind="user", balance=balance, frozen=frozen, created_at=T, updated_at=T)


def request(kind: str, amount: int, src: str | None, dst: str | None, status: str = "pending",
            by: str = "u1", approvals: tuple[str, ...] = ()) -> TokenRequest:
    return TokenRequest(id="r", project_id="p", kind=kind, amount=amount, from_wallet=src, to_wallet=dst,
                        status=status, requested_by=by, created_at=T, updated_at=T,
                        approvals=[TokenApproval(approver_id=a, created_at=T) for a in approvals])


STATUS = TokenStatus(project_id="p", symbol="ATL", decimals=2, total_supply=1_000, minted=1_000,
                     wallets=[wallet("a", 700), wallet("b", 300, frozen=True)])
UNITS = Units("ATL", 2)


def test_impact_of_each_kind() -> None:
    mint = impact_of(request("mint", 50, None, "a"), STATUS, UNITS)
    assert mint.supply == (1_000, 1_050) and mint.wallets == [("a", 700, 750)] and mint.problems == []
    burn = impact_of(request("burn", 800, "a", None), STATUS, UNITS)
    assert burn.supply == (1_000, 200) and burn.problems == ["a holds 7.00 ATL: short by 1.00 ATL"]
    move = impact_of(request("transfer", 10, "a", "b"), STATUS, UNITS)
    assert move.supply == (1_000, 1_000) and move.wallets == [("a", 700, 690), ("b", 300, 310)]
    assert move.problems == ["b is frozen"]


def test_who_may_act() -> None:
    approvers = ["u2", "u3"]
    assert "You made this request" in approve_refusal(request("mint", 1, None, "a", by="u2"), "u2", approvers)
    assert "not one of" in approve_refusal(request("mint", 1, None, "a"), "u9", approvers)
    assert "already approved" in approve_refusal(request("mint", 1, None, "a", approvals=("u2",)), "u2", approvers)
    assert "approved" in approve_refusal(request("mint", 1, None, "a", status="approved"), "u2", approvers)
    assert approve_refusal(request("mint", 1, None, "a"), "u2", approvers) == ""
    assert execute_refusal(request("mint", 1, None, "a", status="approved")) == ""
    assert "pending" in execute_refusal(request("mint", 1, None, "a"))


def test_step_series_fills_the_width() -> None:
    assert step_series([0, 5, 9], 6) == [0, 0, 5, 5, 9, 9]
    assert step_series(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert step_series([], 5) == [] and step_series([1], 0) == []
