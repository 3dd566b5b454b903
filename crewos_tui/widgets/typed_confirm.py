"""A confirmation that needs a word typed (the project's name) before it says yes:
for decisions that are hard to undo, such as burning tokens or moving large amounts.
``y`` alone cannot confirm it; Escape cancels."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from .safe_text import literal, safe_renderable
from .text_input import TextInput


class TypedConfirmModal(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="typed_confirm.cancel")]

    def __init__(self, title: str, message: Any, expected: str, *, yes: str = "Confirm",
                 what: str = "the project name") -> None:
        super().__init__(classes="confirm-modal")
        self._title = title
        self._message = message
        self._expected = expected
        self._yes = yes
        self._what = what  # what ``expected`` is, as the prompt names it

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # Title, message and the expected word quote backend text (names): shown literally.
            yield Label(safe_renderable(self._title), classes="dialog-title")
            yield Static(safe_renderable(self._message, multiline=True), classes="dialog-note")
            yield Label(literal(f"Type {self._what} ({self._expected}) to confirm:"), classes="field-label")
            yield TextInput(placeholder=self._expected, compact=True, id="typed-confirm-input")
            yield Static("", id="typed-confirm-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._yes, variant="error", compact=True, id="typed-confirm-yes")
                yield Button("Cancel (esc)", compact=True, id="typed-confirm-no")

    def on_mount(self) -> None:
        self.query_one("#typed-confirm-input", Input).focus()

    def _try_confirm(self) -> None:
        typed = self.query_one("#typed-confirm-input", Input).value.strip()
        if typed == self._expected:
            self.dismiss(True)
            return
        error = self.query_one("#typed-confirm-error", Static)
        error.update(literal(f"That is not {self._what}." if typed else f"Type {self._what} first."))
        error.add_class("-shown")

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted, "#typed-confirm-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._try_confirm()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "typed-confirm-yes":
            self._try_confirm()
        else:
            self.dismiss(False)
