"""An Input that follows the app's cursor-blink setting (off in snapshot tests, where
a blinking cursor would make screenshots differ run to run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Input

if TYPE_CHECKING:
    from textual import getters
    from textual.app import App


class TextInput(Input):
    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            self.cursor_blink = False
