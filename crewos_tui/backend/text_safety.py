"""Text from users, made harmless where it is shown or exported (standard library only).

Everything a user or an agent writes (names, titles, messages, summaries) may hold
terminal escapes, Markdown or spreadsheet formulas. Three functions neutralise it:

- :func:`visible` makes control characters, escape bytes and bidi overrides visible
  (``ESC[2J`` reads ``␛[2J``), one character for one character;
- :func:`md_escape` quotes plain text into Markdown so it reads as written;
- :func:`csv_safe` keeps a CSV cell from running as a formula.

The app's widgets use them through ``widgets/safe_text.py``; the backend uses them in
its exports (the audit CSV, the chat transcript).
"""

from __future__ import annotations

import re
from typing import Any

BIDI_MARK = "\ufffd"  # what a bidi control, a line/paragraph separator, looks like
C1_MARK = "\u2370"  # ⍰: a C1 control (0x80-0x9f), e.g. the one-byte CSI 0x9b
DEL_MARK = "\u2421"  # ␡

_BIDI = (
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI
    + ["\u200e", "\u200f", "\u061c", "\u2028", "\u2029"]  # LRM RLM ALM, LS PS
)


def _table(multiline: bool) -> dict[int, str]:
    table: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20)}  # ␀ .. ␟ (ESC is ␛)
    table[0x7F] = DEL_MARK
    table.update(dict.fromkeys(range(0x80, 0xA0), C1_MARK))
    table.update({ord(ch): BIDI_MARK for ch in _BIDI})
    if multiline:
        del table[ord("\n")]
        del table[ord("\t")]
    return table


_ONE_LINE = _table(multiline=False)
_MULTI_LINE = _table(multiline=True)


def visible(text: str, multiline: bool = False) -> str:
    """``text`` with every control character, escape byte and bidi override made visible.

    ``multiline=True`` keeps ``\\n`` and ``\\t`` (a message body); otherwise they become
    ``␊`` and ``␉`` (a table cell, a title). Printable text is unchanged, and the result
    has the same length as ``text``."""
    return text.translate(_MULTI_LINE if multiline else _ONE_LINE)


_MD_INLINE = re.compile(r"([\\`*_\[\]<>!|~&])")  # links, images, HTML, emphasis, code, tables
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")  # headings, quotes, lists, rules


def md_escape(text: str) -> str:
    """Plain text quoted into Markdown (a title in a heading, a name in bold, a table
    cell): it reads as written and never becomes a link, an image, HTML, emphasis or a
    list. Control characters are made visible and line breaks become ``␊``, so the
    quote stays on its line."""
    escaped = _MD_INLINE.sub(r"\\\1", visible(text))
    start = _MD_LINE_START.match(escaped)
    if start is None:
        return escaped
    lead, mark = start.group(1), start.group(2)
    if mark.isdigit():  # "1. x" or "1) x": escape the dot or parenthesis after the number
        cut = len(lead) + len(mark)
        return escaped[:cut] + "\\" + escaped[cut:]
    return lead + "\\" + escaped[len(lead):]


#: What a spreadsheet reads as the start of a formula (or strips before one).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A cell that cannot run as a formula: a string starting with ``=``, ``+``, ``-``,
    ``@``, tab or CR gets a leading ``'`` (OWASP's advice against CSV injection); any
    other value is returned as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
