"""One rule for displayed text: what comes from a backend is shown literally.

Names, titles, messages and summaries are written by other people. Textual parses a
plain ``str`` given to ``Static``, ``Label``, ``notify`` or a ``DataTable`` cell as
markup, so such text goes through :func:`literal` (a Rich ``Text``, never parsed) or
:func:`visible` (for the few APIs that take a ``str`` and a ``markup=False``).

:func:`visible` also neutralises what a terminal would act on: C0 controls, DEL and C1
controls become visible pictures (``ESC`` is ``␛``, so ``ESC[2J`` reads ``␛[2J`` and is
never written raw), and bidi overrides and isolates (which can reorder what a line seems
to say) become ``�``; ``backend/text_safety.py`` holds the rules, shared with the
backend's exports. Every replacement is one character for one character, so a styled
``Text`` can be cleaned in place without moving its spans (:func:`safe_renderable`).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content

from ..backend.text_safety import md_escape, visible

__all__ = ["clean_text", "literal", "md_escape", "safe", "safe_markdown", "safe_renderable", "visible",
           "visible_source"]


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


def visible_source(source: str) -> str:
    """A text for a ``TextArea`` (an artifact's source): control characters, escape bytes
    and bidi overrides made visible, line breaks (LF and CRLF) and tabs kept.

    The editor holds this text itself, not the original: Textual's ``TextArea`` measures
    and wraps its document as written, so a cursor and line widths stay right only when
    what it holds is what it draws. A lone CR (which would move a terminal's cursor) is
    made visible like the other controls."""
    return "\r\n".join(visible(part, multiline=True) for part in source.split("\r\n"))
