"""The notification preferences form: which kinds reach the user, which projects are
muted, and whether new ones pop up as toasts. Like every form here, a refusal
shows inside it and only a successful save closes it (with the saved preferences).
Every box shows ✓ or ✗ (``marks.py``): on a 16-colour terminal the colour alone did not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, SelectionList, Static

from .format import error_text
from .marks import MarkedCheckbox, MarkedSelectionList
from .safe_text import literal, safe
from .workers import work

if TYPE_CHECKING:
    from ..backend.schemas import NotificationPreferences

Save = Callable[[dict[str, Any]], Awaitable[Any]]


class PreferencesModal(ModalScreen[Any]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prefs.cancel"),
        Binding("ctrl+s", "save", "Save", id="prefs.save"),
    ]

    def __init__(self, prefs: NotificationPreferences, projects: Sequence[tuple[str, str]], save: Save) -> None:
        super().__init__(classes="form-modal", id="notification-preferences")
        self._prefs = prefs
        known = {pid for _, pid in projects}
        # A muted project the user no longer sees stays listed, so saving keeps it muted.
        self._projects = list(projects) + [(f"(project {pid})", pid) for pid in prefs.muted_projects
                                           if pid not in known]
        self._save = save

    def compose(self) -> ComposeResult:
        muted = set(self._prefs.muted_projects)
        with Vertical(classes="dialog", id="prefs-box"):
            yield Label("Notification preferences", classes="dialog-title")
            yield Label("Tell me in the app when… (space toggles)", classes="prefs-label")
            yield MarkedSelectionList[str](
                *((literal(k.label or k.kind), k.kind, k.in_app) for k in self._prefs.kinds),
                compact=True, id="prefs-kinds")
            yield Label("Mute these projects", classes="prefs-label")
            if self._projects:
                yield MarkedSelectionList[str](*((literal(name), pid, pid in muted) for name, pid in self._projects),
                                               compact=True, id="prefs-projects")
            else:
                yield Static("You are in no project yet.", classes="dialog-note")
            yield MarkedCheckbox("Pop up new notifications as toasts", self._prefs.toasts, compact=True,
                                 id="prefs-toasts")
            yield Static("", id="form-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", compact=True, id="form-submit")
                yield Button("Cancel", compact=True, id="form-cancel")

    def values(self) -> dict[str, Any]:
        """The update to send: every kind's setting, the muted projects, toasts."""
        kinds = cast("SelectionList[str]", self.query_one("#prefs-kinds", SelectionList))
        on_kinds = set(kinds.selected)
        out: dict[str, Any] = {
            "kinds": {k.kind: k.kind in on_kinds for k in self._prefs.kinds},
            "toasts": self.query_one("#prefs-toasts", Checkbox).value,
        }
        projects = cast("Iterator[SelectionList[str]]", self.query("#prefs-projects").results(SelectionList))
        out["muted_projects"] = list(next(projects).selected) if self._projects else list(self._prefs.muted_projects)
        return out

    def show_error(self, message: str) -> None:
        target = self.query_one("#form-error", Static)
        target.update(safe(message))
        target.set_class(bool(message), "-shown")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.show_error("")
        self._run_save(self.values())

    @on(Button.Pressed, "#form-submit")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="prefs-save", exit_on_error=False)
    async def _run_save(self, values: dict[str, Any]) -> None:
        button = self.query_one("#form-submit", Button)
        button.disabled = True
        try:
            result = await self._save(values)
        except Exception as exc:  # noqa: BLE001 - every failure is shown in the form
            self.show_error(error_text(exc))
            button.disabled = False
        else:
            self.dismiss(result)
