"""After ``[``/``]`` switches a tab, the keyboard belongs to the tab's content.

A tab switch by key leaves the focus where it was (often on the tab bar, or on a
table in the pane that just hid), so the arrows would move the tabs instead of the
list the user is now looking at. This moves the focus to the first focusable widget
of the newly shown pane, once the switch has been drawn.
"""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import TabbedContent


def first_focusable(pane: Widget) -> Widget | None:
    """The first widget inside ``pane`` that can take the focus (in focus-chain order)."""
    for widget in pane.query("*"):
        if widget.focusable and widget.display:
            return widget
    return None


def focus_active_pane(tabs: TabbedContent) -> None:
    """Focus the content of ``tabs``' active pane after the next refresh."""

    def move() -> None:
        pane = tabs.active_pane
        target = first_focusable(pane) if pane is not None else None
        if target is not None:
            target.focus()

    tabs.call_after_refresh(move)
