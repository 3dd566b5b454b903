"""Text kinds of request fields: single-line text and long text, without control characters.

Names, titles, usernames, tags and labels are shown on one line of a terminal, so a
control character there (NUL, ESC starting an escape sequence, a newline, a bidi
override reordering what follows) is refused rather than stored. Long texts
(descriptions, comments, messages, bodies) keep newlines, tabs and CRLF line ends, and
refuse the other C0 and C1 controls; nothing is removed silently.

Both checks look at the value as sent, before ``StringConstraints`` trims it, so put
``ONE_LINE`` / ``MULTI_LINE`` *after* the constraints in ``Annotated[...]``::

    Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), ONE_LINE]

(Pydantic cannot apply ``StringConstraints`` after a validator, so the validator goes last;
it is a ``BeforeValidator`` and still runs first.) Only request models use these: data
already stored still reads back through the response models.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

__all__ = ["MULTI_LINE", "ONE_LINE", "MultiLine", "SingleLine", "multi_line_problem", "multi_line_text",
           "single_line_text"]

#: C0 controls (TAB, LF and CR included), DEL, C1 controls, bidi embeddings/overrides and isolates.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: C0 controls but TAB and LF, a CR not followed by LF, DEL and C1 controls.
_NOT_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


_ONE_LINE_WHAT = "a single line of text without control characters"
_MULTI_LINE_WHAT = "text without control characters other than newlines and tabs"


def _refuse(found: re.Match[str], what: str) -> PydanticCustomError:
    return PydanticCustomError(
        "control_character", "must be {what} (found {char} at position {position})",
        {"what": what, "char": f"U+{ord(found.group()[0]):04X}", "position": found.start()})


def single_line_text(value: object) -> object:
    """Refuse a string holding a control character, a line break or a bidi control."""
    if isinstance(value, str) and (found := _NOT_ONE_LINE.search(value)):
        raise _refuse(found, _ONE_LINE_WHAT)
    return value


def multi_line_text(value: object) -> object:
    """Refuse a string holding a control character other than TAB, LF and CRLF."""
    if isinstance(value, str) and (found := _NOT_MULTI_LINE.search(value)):
        raise _refuse(found, _MULTI_LINE_WHAT)
    return value


def multi_line_problem(value: str) -> str | None:
    """What is wrong with ``value`` as long text, in the words the request models use
    ("must be text without ... (found U+001B at position 3)"); None if nothing is. For
    service calls that take text without a request model (a chat message)."""
    if found := _NOT_MULTI_LINE.search(value):
        return _refuse(found, _MULTI_LINE_WHAT).message()
    return None


#: Put last in ``Annotated[str, StringConstraints(...), ONE_LINE]``.
ONE_LINE = BeforeValidator(single_line_text)
#: Put last in ``Annotated[str, StringConstraints(...), MULTI_LINE]``.
MULTI_LINE = BeforeValidator(multi_line_text)

#: A single line of text: no C0/C1 controls (TAB, CR, LF included), DEL or bidi controls.
SingleLine = Annotated[str, ONE_LINE]
#: Long text: newlines, tabs and CRLF kept; other C0/C1 controls and DEL refused.
MultiLine = Annotated[str, MULTI_LINE]
