"""The ledger screen's text helpers: the impact preview, who may act, chart series."""

from __future__ import annotations

from datetime import UTC, datetime

from crewos_tui.backend.schemas.tokens import (
    Posting,
    TokenApproval,
    TokenOp,
    TokenRequest,
    TokenStatus,
    TokenTransaction,
    Wallet,
)
from crewos_tui.widgets.ledger_text import (
    Units,
    approve_refusal,
    axis_amount,
    execute_refusal,
    impact_of,
    step_series,
    time_span,
    x_axis,
    y_axis,
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


# ---- chart axes -----------------------------------------------------------------------------


def tx(seq: int, when: datetime, *wallets: str) -> TokenTransaction:
    return TokenTransaction(id=f"t{seq}", project_id="p", seq=seq, kind=TokenOp.transfer, amount=1, created_at=when,
                            supply_after=10, postings=[Posting(wallet=w, amount=1, balance_after=1) for w in wallets])


def test_axis_amounts_fit_five_cells_in_three_figures() -> None:
    cases = {30_000_000: "300k", 27_325_000: "273k", 1_250_000: "12.5k", 125_000_000: "1.25M",
             95_000: "950", 1_250: "12.5", 0: "0", 5: "0.05"}
    assert {units: axis_amount(units, 2) for units in cases} == cases
    assert axis_amount(7, 0) == "7" and axis_amount(4_200_000_000, 0) == "4.2G"
    assert all(len(axis_amount(10**n - 1, 2)) <= 5 for n in range(1, 13))


def test_the_y_side_has_the_highest_value_on_top_and_the_lowest_at_the_bottom() -> None:
    assert y_axis([0, 30_000_000, 29_500_000], 2, rows=2, width=5).split("\n") == [" 300k", "    0"]
    assert y_axis([100, 300], 0, rows=4, width=4).split("\n") == [" 300", "    ", "    ", " 100"]
    assert y_axis([5], 0, rows=1, width=3) == "  5"
    assert y_axis([], 0, rows=2, width=5) == ""


def test_the_x_side_has_the_first_date_left_and_the_last_right() -> None:
    span = (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 8, 17, 0, tzinfo=UTC))
    assert x_axis(span, 30) == "2026-03-02" + " " * 10 + "2026-03-08"
    assert x_axis(span, 15) == "2026-03-02"  # no room for both: the start
    same_day = (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 17, 5, tzinfo=UTC))
    assert x_axis(same_day, 30) == "03-02 09:00" + " " * 8 + "03-02 17:05"
    assert x_axis(None, 30) == ""


def test_the_time_span_of_a_chart_is_its_transactions_or_the_wallets() -> None:
    days = [datetime(2026, 3, d, tzinfo=UTC) for d in (2, 4, 6)]
    history = [tx(1, days[0], "a"), tx(2, days[1], "b"), tx(3, days[2], "a", "b")]
    assert time_span(history) == (days[0], days[2])
    assert time_span(history, "b") == (days[1], days[2])
    assert time_span(history, "nobody") is None and time_span([]) is None
