"""Text for the ledger screen, kept free of widgets so it is easy to test: amounts in
display units, the impact preview of a request (balances and supply before →
after), why the caller may not act on a request, and chart series.

Amounts stay integers throughout; ``format_units`` turns them into text exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from ..backend.token_units import format_units
from .format import utc

if TYPE_CHECKING:
    from ..backend.schemas.tokens import TokenRequest, TokenStatus, TokenTransaction


def _v(value: object) -> str:
    return str(getattr(value, "value", value) or "")


@dataclass(frozen=True)
class Units:
    """How one project's token reads: ``Units("ATL", 2)(12345) == "123.45 ATL"``."""

    symbol: str
    decimals: int

    def __call__(self, amount: int, *, symbol: bool = True) -> str:
        text = format_units(amount, self.decimals)
        return f"{text} {self.symbol}" if symbol else text

    @classmethod
    def of(cls, status: TokenStatus | None) -> Units:
        if status is None or status.symbol is None:
            return cls("", 0)
        return cls(status.symbol, status.decimals)


# ---- impact preview -----------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    supply: tuple[int, int]  # before, after
    wallets: list[tuple[str, int, int]]  # address, before, after
    problems: list[str]  # why it would fail now (empty: it would go through)


def impact_of(req: TokenRequest, status: TokenStatus, units: Units) -> Impact:
    """What executing ``req`` now would do to balances and supply."""
    balances = {w.address: w for w in status.wallets}
    kind, amount = _v(req.kind), req.amount
    supply = status.total_supply
    after_supply = supply + amount if kind == "mint" else supply - amount if kind == "burn" else supply
    moves: list[tuple[str, int]] = []
    if req.from_wallet:
        moves.append((req.from_wallet, -amount))
    if req.to_wallet:
        moves.append((req.to_wallet, amount))
    rows: list[tuple[str, int, int]] = []
    problems: list[str] = []
    for address, delta in moves:
        wallet = balances.get(address)
        before = wallet.balance if wallet else 0
        rows.append((address, before, before + delta))
        if wallet is not None and wallet.frozen:
            problems.append(f"{address} is frozen")
        if before + delta < 0:
            problems.append(f"{address} holds {units(before)}: short by {units(-(before + delta))}")
    return Impact((supply, after_supply), rows, problems)


def impact_text(req: TokenRequest | None, status: TokenStatus | None, why_not: str = "") -> Text:
    """The preview pane: the request, its approvals and what it would change."""
    if req is None or status is None:
        return Text("Select a request to preview its impact.", style="dim italic")
    units = Units.of(status)
    kind, state = _v(req.kind), _v(req.status)
    route = " → ".join(w for w in (req.from_wallet, req.to_wallet) if w)
    out = Text.assemble((f"{kind.title()} {units(req.amount)}", "bold"), f"  {route}\n",
                        ((f"{state} · by {req.requested_by_name or '?'} · {utc(req.created_at)} UTC · "
                          f"{len(req.approvals)}/{req.required_approvals} approval(s)"), "dim"))
    if req.memo:
        out.append(f"\n“{req.memo}”", style="italic")
    if state in ("pending", "approved"):
        impact = impact_of(req, status, units)
        out.append("\nImpact if executed now", style="bold")
        before, after = impact.supply
        out.append(f"\n  supply  {units(before, symbol=False)} → {units(after, symbol=False)}")
        for address, b, a in impact.wallets:
            out.append(f"\n  {address}  {units(b, symbol=False)} → {units(a, symbol=False)}",
                       style="red" if a < 0 else "")
        for problem in impact.problems:
            out.append(f"\n  ✗ would fail: {problem}", style="bold red")
    elif req.failure_reason:
        out.append(f"\nFailed: {req.failure_reason}", style="red")
    elif req.comment:
        out.append(f"\nComment: {req.comment}", style="dim")
    if why_not:
        out.append(f"\n{why_not}", style="yellow")
    return out


# ---- who may do what --------------------------------------------------------------------


def approve_refusal(req: TokenRequest | None, me: str | None, approver_ids: Sequence[str]) -> str:
    """Why the caller cannot approve ``req`` ("" when they can)."""
    if req is None:
        return "Select a request first."
    if req.requested_by is not None and req.requested_by == me:
        return "You made this request: another approver must approve it."
    if _v(req.status) != "pending":
        return f"The request is {_v(req.status)}: only pending requests are approved."
    if me not in approver_ids:
        return "You are not one of this project's token approvers."
    if any(a.approver_id == me for a in req.approvals):
        return "You have already approved it."
    return ""


def reject_refusal(req: TokenRequest | None) -> str:
    if req is None:
        return "Select a request first."
    if _v(req.status) != "pending":
        return f"The request is {_v(req.status)}: only pending requests are rejected."
    return ""


def execute_refusal(req: TokenRequest | None) -> str:
    if req is None:
        return "Select a request first."
    if _v(req.status) != "approved":
        return f"The request is {_v(req.status)}: only approved requests are executed."
    return ""


# ---- charts -------------------------------------------------------------------------------


def step_series(points: Sequence[int], width: int) -> list[int]:
    """``points`` (oldest first) stretched or squeezed to ``width`` bars, each bar the
    value in force at that position (a step chart), so a short history fills the chart."""
    if not points or width <= 0:
        return []
    n = len(points)
    return [points[min(n - 1, (i * n) // width)] for i in range(width)]


def supply_points(history: Sequence[TokenTransaction]) -> list[int]:
    """Supply after each transaction, oldest first, starting from zero."""
    ordered = sorted(history, key=lambda t: t.seq)
    return [0, *(t.supply_after for t in ordered)] if ordered else []


def wallet_points(history: Sequence[TokenTransaction], address: str) -> list[int]:
    """A wallet's balance after each transaction that touched it, oldest first."""
    out: list[int] = []
    for t in sorted(history, key=lambda t: t.seq):
        out.extend(p.balance_after for p in t.postings if p.wallet == address)
    return [0, *out] if out else []


def time_span(history: Sequence[TokenTransaction], address: str | None = None) -> tuple[datetime, datetime] | None:
    """When the first and the last transaction a chart draws happened (those touching
    ``address`` for a wallet's chart); None when there are none."""
    times = [t.created_at for t in history if address is None or any(p.wallet == address for p in t.postings)]
    return (min(times), max(times)) if times else None


def axis_amount(amount: int, decimals: int) -> str:
    """An amount in at most five cells for a chart's side, three figures: ``300k``,
    ``1.25M``, ``12.5k``, ``950`` (display only: the exact amounts are in the tables)."""
    whole = amount / 10**decimals
    size, suffix = abs(whole), ""
    for limit, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            whole, size, suffix = whole / limit, size / limit, name
            break
    places = 0 if size >= 100 or (not suffix and size == int(size)) else 1 if size >= 10 else 2
    text = f"{whole:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + suffix


def y_axis(points: Sequence[int], decimals: int, rows: int, width: int) -> str:
    """The side of a chart ``rows`` high, right-aligned in ``width`` cells: its highest
    value at the top, its lowest at the bottom (a sparkline spans exactly that range)."""
    if not points or rows <= 0:
        return ""
    top, bottom = axis_amount(max(points), decimals), axis_amount(min(points), decimals)
    lines = [top] if rows == 1 else [top, *([""] * (rows - 2)), bottom]
    return "\n".join(line.rjust(width) for line in lines)


def x_axis(span: tuple[datetime, datetime] | None, width: int) -> str:
    """The dates under a chart ``width`` cells wide: the first at the left, the last at the right (UTC)."""
    if span is None or width <= 0:
        return ""
    first, last = (t.strftime("%Y-%m-%d") for t in span)
    if first == last:
        first, last = (t.strftime("%m-%d %H:%M") for t in span)
    if len(first) + len(last) + 1 > width:
        return first[:width]
    return first + " " * (width - len(first) - len(last)) + last


def movement(t: TokenTransaction) -> str:
    """``treasury → devon`` for a transaction's postings (system accounts hidden)."""
    out = [p.wallet for p in t.postings if p.amount < 0 and not p.wallet.startswith("@")]
    into = [p.wallet for p in t.postings if p.amount > 0 and not p.wallet.startswith("@")]
    return f"{', '.join(out) or '(minted)'} → {', '.join(into) or '(burned)'}"
