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

import re
from typing import Any

from rich.text import Text
from textual.content import Content

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
    ``Text`` or ``Content`` is cleaned like :func:`clean_text` (styles kept), anything
    else is left as it is."""
    if isinstance(value, str):
        return literal(value, multiline=multiline)
    if isinstance(value, Text):
        return clean_text(value, multiline)
    if isinstance(value, Content):
        return Content(visible(value.plain, multiline), list(value.spans))
    return value


def safe(value: Any) -> Any:
    """:func:`safe_renderable` for a label or a multi-line ``Static``: line breaks stay."""
    return safe_renderable(value, multiline=True)


def safe_markdown(source: str) -> str:
    """Markdown source (an agent reply, a transcript) with control characters and bidi
    overrides made visible; the Markdown itself is rendered on purpose."""
    return visible(source, multiline=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~&])")


def md_escape(text: str) -> str:
    """Plain text quoted into Markdown (a title in a heading, a name in bold): every
    Markdown-significant character is backslash-escaped, so it reads as written and
    never becomes a link, an image, HTML or emphasis; controls are made visible and
    line breaks become ``␊`` (a quote stays on its line)."""
    return _MD_SPECIAL.sub(r"\\\1", visible(text))
