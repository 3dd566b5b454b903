"""One rule for displayed text: what comes from a backend is shown literally.

Names, titles, messages and summaries are written by other people. Textual parses a
plain ``str`` given to ``Static``, ``Label``, ``notify`` or a ``DataTable`` cell as
markup, so such text goes through :func:`literal` (a Rich ``Text``, never parsed) or
:func:`visible` (for the few APIs that take a ``str`` and a ``markup=False``).

:func:`visible` also neutralises what a terminal would act on: C0 controls, DEL and C1
controls become visible pictures (``ESC`` is ``␛``, so ``ESC[2J`` reads ``␛[2J`` and is
never written raw), and bidi overrides and isolates (which can reorder what a line seems
to say) become ``�``. Every replacement is one character for one character, so a styled
``Text`` can be cleaned in place without moving its spans (:func:`safe_renderable`).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

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
    table.update({c: C1_MARK for c in range(0x80, 0xA0)})
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


def literal(text: str, style: str = "", multiline: bool = False) -> Text:
    """Backend text as a Rich ``Text``: shown as written, never parsed as markup."""
    return Text(visible(text, multiline), style=style)


def clean_text(text: Text, multiline: bool = False) -> Text:
    """A copy of a styled ``Text`` whose characters went through :func:`visible`."""
    copy = text.copy()
    copy.plain = visible(text.plain, multiline)  # same length: the spans stay put
    return copy


def safe_renderable(value: Any, multiline: bool = False) -> Any:
    """What a table cell, label or dialog shows: a ``str`` becomes :func:`literal`, a
    ``Text`` is cleaned by :func:`clean_text`, anything else is left as it is."""
    if isinstance(value, str):
        return literal(value, multiline=multiline)
    if isinstance(value, Text):
        return clean_text(value, multiline)
    return value
