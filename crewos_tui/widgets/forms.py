"""A modal form: labelled fields, inline validation, and a submit that runs in a
worker. Backend refusals (409, 422, …) appear inside the form, which stays open so
the user can fix the input; only success closes it, with the submit's result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from .form_fields import Field, FieldError
from .format import error_text
from .safe_text import literal, safe_renderable
from .text_input import TextInput
from .workers import work

T = TypeVar("T")


Submit = Callable[[dict[str, str]], Awaitable[T]]


class FormModal(ModalScreen[T | None], Generic[T]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.submit"),
    ]

    def __init__(self, title: str, fields: Sequence[Field], submit: Submit[T], *,
                 submit_label: str = "Save", note: str = "") -> None:
        super().__init__(classes="form-modal")
        self._title = title
        self._fields = list(fields)
        self._submit = submit
        self._submit_label = submit_label
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # Titles, notes, labels and choices quote backend text (names): shown literally.
            yield Label(safe_renderable(self._title), classes="dialog-title")
            if self._note:
                yield Static(safe_renderable(self._note, multiline=True), classes="dialog-note")
            for f in self._fields:
                yield Label(literal(f.label + (" *" if f.required else "")), classes="field-label")
                if f.choices is not None:
                    value = f.value or (f.choices[0][1] if f.choices else Select.NULL)
                    choices = [(literal(prompt), v) for prompt, v in f.choices]
                    yield Select(choices, value=value, allow_blank=False, compact=True, id=f"field-{f.name}")
                else:
                    yield TextInput(f.value, placeholder=f.placeholder, password=f.password, compact=True,
                                    id=f"field-{f.name}")
                yield Static("", id=f"error-{f.name}", classes="field-error")
            yield Static("", id="form-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._submit_label, variant="primary", compact=True, id="form-submit")
                yield Button("Cancel", compact=True, id="form-cancel")

    # ---- values and errors ---------------------------------------------------------

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self._fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Select):
                select = cast("Select[str]", widget)
                out[f.name] = "" if select.value is Select.NULL else str(select.value)
            else:
                out[f.name] = widget.value.strip() if not f.password else widget.value  # type: ignore[attr-defined]
        return out

    def show_error(self, message: str, field: str | None = None) -> None:
        target = self.query_one(f"#error-{field}" if field else "#form-error", Static)
        target.update(literal(message, multiline=True))
        target.set_class(bool(message), "-shown")
        if field:
            self.query_one(f"#field-{field}").focus()

    def _clear_errors(self) -> None:
        for widget in self.query(".field-error, .form-error").results(Static):
            widget.update("")
            widget.remove_class("-shown")

    # ---- actions -------------------------------------------------------------------

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        self._clear_errors()
        values = self.values()
        missing = [f for f in self._fields if f.required and not values[f.name]]
        for f in reversed(missing):  # focus ends on the first missing field
            self.show_error(f"{f.label} is required", f.name)
        if not missing:
            self._run_submit(values)

    @on(Input.Submitted)
    def _enter_submits(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, "#form-submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="form-submit", exit_on_error=False)
    async def _run_submit(self, values: dict[str, str]) -> None:
        button = self.query_one("#form-submit", Button)
        button.disabled = True
        try:
            result: Any = await self._submit(values)
        except FieldError as exc:
            self.show_error(exc.message, exc.field)
        except Exception as exc:  # noqa: BLE001 - every failure is shown in the form
            self.show_error(error_text(exc))
        else:
            self.dismiss(result)
            return
        button.disabled = False
