"""Copying through the terminal (OSC 52), so a copy reaches the clipboard of the
machine the user sits at: through ssh, and through tmux when ``set-clipboard`` is on.

Not xclip / pbcopy / wl-copy: over SSH they would fill the remote box's clipboard, or
fail for want of a display. Textual's ``App.copy_to_clipboard`` writes the OSC 52
sequence to the driver and keeps the text in ``App.clipboard``; this adds the toast
that tells the user where the copy went and what it needs.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

VIA_TERMINAL = "via the terminal (OSC 52) — works over SSH; tmux needs set-clipboard on"
#: Terminals and tmux cap an OSC 52 payload (commonly around 100 kB of base64) and
#: drop a larger one without a word: say so instead of claiming success.
OSC52_SAFE_BYTES = 100_000


def osc52(text: str) -> str:
    """The sequence a terminal turns into a clipboard write (what Textual sends)."""
    return f"\x1b]52;c;{base64.b64encode(text.encode('utf-8')).decode('ascii')}\a"


def copy_via_terminal(app: App[Any], text: str, what: str) -> None:
    """Copy ``text`` and say so: "Copied the reply via the terminal (OSC 52) ..."."""
    app.copy_to_clipboard(text)
    size = len(osc52(text))
    if size > OSC52_SAFE_BYTES:
        app.notify(f"Copied {what} {VIA_TERMINAL}. It is large ({size // 1000} kB encoded): "
                   "some terminals and tmux drop copies this big.", severity="warning")
        return
    app.notify(f"Copied {what} {VIA_TERMINAL}.")
