"""Dialogs of the review screen: the reason prompt (quick reasons on number keys, or
free text) and the batch receipt (shown, and saved as markdown and JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.markdown import Markdown
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from .format import error_text
from .review_receipt import receipt_markdown, save_receipt
from .safe_text import literal, safe
from .text_input import TextInput

if TYPE_CHECKING:
    from ..backend.schemas import ReviewBatchResult

REJECT_REASONS = ("Inaccurate or wrong facts", "Incomplete", "Off-policy or off-brief", "Duplicate",
                  "Needs sources", "Wrong format")
QUARANTINE_REASONS = ("Possible secret or credential", "Possible prompt injection", "Personal data",
                      "Unsafe or harmful content", "Needs a security review")


class ReasonModal(ModalScreen[str | None]):
    """Pick a quick reason with its number (or ↑↓ enter), or tab to type one."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel"),
        *(Binding(str(i), f"pick({i - 1})", f"Reason {i}", show=False, id=f"reason.pick{i}") for i in range(1, 10)),
    ]

    def __init__(self, title: str, reasons: Sequence[str], note: str = "") -> None:
        super().__init__(classes="form-modal")
        self._title = title
        self._reasons = list(reasons)
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="reason-box"):
            yield Label(safe(self._title), classes="dialog-title")
            if self._note:
                yield Static(safe(self._note), classes="dialog-note")
            yield OptionList(*(Option(literal(f"{i}  {r}"), id=str(i - 1)) for i, r in enumerate(self._reasons, 1)),
                             id="reason-options", compact=True)
            yield Label("Or type a reason (tab), enter to use it:", classes="field-label")
            yield TextInput(placeholder="reason", compact=True, id="reason-text")
            yield Static("", id="reason-error", classes="field-error")

    def on_mount(self) -> None:
        self.query_one("#reason-options", OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self._reasons):
            self.dismiss(self._reasons[index])

    @on(OptionList.OptionSelected, "#reason-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_pick(int(event.option.id or 0))

    @on(Input.Submitted, "#reason-text")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.dismiss(text)
            return
        error = self.query_one("#reason-error", Static)
        error.update("Type a reason, or pick one above.")
        error.add_class("-shown")


class ReceiptModal(ModalScreen[None]):
    """What a batch did, with a path to save the receipt to (``.md`` and ``.json``).

    It fits 80x24: on a short terminal the dialog takes the full height, the receipt
    scrolls and the path, its note and the buttons stay at the bottom. What it has to
    say (the batch's outcome, where it saved) it says itself, in its title and note;
    toasts arriving meanwhile show at the top (``review.tcss``), never over the path."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="receipt.close"),
        Binding("ctrl+s", "save", "Save", id="receipt.save"),
    ]
    # Below 40 rows the tall layout (a receipt up to 20 rows) would not fit: see review.tcss.
    # Textual annotates this `ClassVar[...] | None`, which reads as an instance variable.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-short"), (40, "-tall")]

    def __init__(self, result: ReviewBatchResult, server: str, default_path: Path, outcome: str = "") -> None:
        super().__init__(classes="form-modal")
        self._result = result
        self._server = server
        self._default = default_path
        self._outcome = outcome
        self.saved: tuple[Path, Path] | None = None

    def compose(self) -> ComposeResult:
        count = len(self._result.results)
        title = self._outcome or f"Batch applied: {count} decision{'s' if count != 1 else ''}"
        with Vertical(classes="dialog", id="receipt-box"):
            yield Label(literal(title), classes="dialog-title", id="receipt-title")
            with VerticalScroll(id="receipt-body"):
                yield Static(Markdown(receipt_markdown(self._result, self._server), hyperlinks=False))
            with Vertical(id="receipt-foot"):
                yield Label("Save the receipt to (.md and .json):", classes="field-label")
                yield TextInput(str(self._default), compact=True, id="receipt-path")
                yield Static("", id="receipt-note", classes="dialog-note")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Save (enter)", variant="primary", compact=True, id="receipt-save")
                    yield Button("Close (esc)", compact=True, id="receipt-close")

    def on_mount(self) -> None:
        self.query_one("#receipt-path", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def say(self, text: str) -> None:
        """A line in the dialog, under the path (shown only once there is something to say)."""
        note = self.query_one("#receipt-note", Static)
        note.update(literal(text))
        note.add_class("-shown")

    def action_save(self) -> None:
        raw = self.query_one("#receipt-path", Input).value.strip()
        if not raw:
            self.say("Give a path first.")
            return
        try:
            self.saved = save_receipt(self._result, self._server, Path(raw))
        except OSError as exc:
            self.say(f"Not saved: {error_text(exc)}")
            return
        md, js = self.saved
        self.say(f"Saved {md} and {js}")

    @on(Input.Submitted, "#receipt-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "receipt-save":
            self.action_save()
        else:
            self.dismiss(None)
