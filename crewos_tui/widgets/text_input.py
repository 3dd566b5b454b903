"""An Input that follows the app's cursor-blink setting (off in snapshot tests, where
a blinking cursor would make screenshots differ run to run)."""

from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            self.cursor_blink = False
