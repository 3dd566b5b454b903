"""A small menu of actions: ↑/↓ and Enter, Esc to close; dismisses with the chosen action.

Used where a single key must not change data on its own (chat's ``enter`` on a reply):
the action runs only after it is picked here. Each row shows its direct key, if it has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class ChoiceMenu(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="choice_menu.cancel")]
    DEFAULT_CSS = """
    ChoiceMenu {
        #choice-menu-box { width: 50; max-width: 100%; height: auto; }
        #choice-menu-list { height: auto; max-height: 12; margin: 1 0 0 0; }
    }
    """

    def __init__(self, title: str, choices: Sequence[tuple[str, str, str]]) -> None:
        """``choices``: (label, action, key) rows; ``key`` may be empty."""
        super().__init__(classes="choice-menu")
        self._title = title
        self._choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="choice-menu-box"):
            yield Label(Content(self._title), classes="dialog-title")
            yield OptionList(*(Option(Content(label) + (Content.styled(f"  {key}", "dim") if key else Content()),
                                      id=action) for label, action, key in self._choices),
                             id="choice-menu-list", compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#choice-menu-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
