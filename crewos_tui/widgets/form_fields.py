"""What a form is made of, without the widgets (so screens can describe forms
without importing them before the first frame)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    required: bool = False
    choices: Sequence[tuple[str, str]] | None = None  # (label, value): a Select
    password: bool = False


class FieldError(Exception):
    """Raised by a submit function to put a message under one field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
