"""A yes/no modal for the few actions that need a deliberate second key."""

from __future__ import annotations

from rich.console import RenderableType
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from .safe_text import safe_renderable


class ConfirmModal(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, message: RenderableType, *, yes: str = "Yes") -> None:
        super().__init__(classes="confirm-modal")
        self._title = title
        self._message = message
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # Title and message quote backend text (names): shown literally.
            yield Label(safe_renderable(self._title), classes="dialog-title")
            yield Static(safe_renderable(self._message, multiline=True), classes="dialog-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self._yes} (y)", variant="error", compact=True, id="confirm-yes")
                yield Button("No (n)", compact=True, id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # Enter alone must not confirm

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")
