"""Token amounts between smallest units (int) and display text, exactly.

A token with ``decimals = 2`` shows 12345 units as ``123.45``. Both directions use
string and integer arithmetic only: no float ever touches an amount, so
``0.1 + 0.2`` style errors cannot creep into a ledger.
"""

from __future__ import annotations

import re

_DISPLAY = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]*))?$")  # ASCII digits only


def format_units(amount: int, decimals: int, *, grouping: bool = True) -> str:
    """``format_units(123456, 2) == "1,234.56"``; negative amounts keep their sign."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    head = f"{whole:,}" if grouping else str(whole)
    if decimals == 0:
        return sign + head
    return f"{sign}{head}.{frac:0{decimals}d}"


def parse_units(text: str, decimals: int) -> int:
    """``parse_units("12.5", 2) == 1250``. Refuses signs, exponents, and more fractional
    digits than the token has (``ValueError`` with a readable message)."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    match = _DISPLAY.match(cleaned)
    if not match:
        raise ValueError(f"{text.strip() or 'an empty amount'!r} is not a plain decimal number")
    frac = (match.group("frac") or "").rstrip("0")
    if len(frac) > decimals:
        unit = "whole units" if decimals == 0 else f"{decimals} decimal place{'s' if decimals != 1 else ''}"
        raise ValueError(f"{text.strip()!r} has more precision than the token allows ({unit})")
    return int(match.group("int")) * 10**decimals + (int(frac.ljust(decimals, "0")) if decimals else 0)
