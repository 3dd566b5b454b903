"""An Input that follows the app's cursor-blink setting (off in snapshot tests, where
a blinking cursor would make screenshots differ run to run) and draws the control
characters of its value visibly: an edit dialog pre-filled with someone else's text
never writes an escape sequence to the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Input

from .safe_text import clean_text

if TYPE_CHECKING:
    from textual import getters
    from textual.app import App


class TextInput(Input):
    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    @property
    def _value(self) -> Text:
        # One visible character for each control character: the cursor and selection still line up.
        return clean_text(super()._value)

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            self.cursor_blink = False
