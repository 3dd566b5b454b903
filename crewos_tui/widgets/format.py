"""Text for cells and labels. Times are absolute UTC, never "3 minutes ago": the
screen must read the same over SSH in another time zone, and snapshots must not
depend on the real clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc(value: datetime | None) -> str:
    """``2026-03-02 09:07`` in UTC; an empty string for no time."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M")


def size(n: int) -> str:
    """A byte count for humans: 812 B, 4.2 KB, 1.3 MB."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def one_line(text: str, limit: int = 60) -> str:
    """First line of ``text``, cut to ``limit`` characters with an ellipsis."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_text(exc: BaseException) -> str:
    """What a user reads for a failure: the backend's own message for ``CrewOSError``,
    the first issue of a pydantic ``ValidationError`` (checked by duck typing so this
    module does not import pydantic), else the exception's class and message."""
    from ..backend.errors import CrewOSError

    if isinstance(exc, CrewOSError):
        return str(exc)
    errors = getattr(exc, "errors", None)
    issues: Any = errors() if callable(errors) and type(exc).__name__ == "ValidationError" else None
    if issues:
        first = issues[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first.get("msg", "invalid value"))
        return f"{where}: {msg}" if where else msg
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def count(n: int, noun: str, plural: str = "") -> str:
    """``1 item``, ``2 items``, ``0 items``: a number and its noun, as words (``plural``
    for nouns that do not take an s)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
