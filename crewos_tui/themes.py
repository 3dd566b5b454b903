"""Which colour theme the app starts with: the profile's, else one the terminal can show.

A terminal that renders 16 colours (``TERM=xterm``/``screen``/``linux`` without
``256color``, no ``COLORTERM=truecolor``; common over SSH and in tmux's default
setup) turns a truecolor theme into a guess at the nearest of 16 colours: panels and
cursors blur into the background. Textual's ANSI themes use the terminal's own
palette instead, so they read on any of them. The detection mirrors what Rich (which
renders Textual's output) decides from the same environment, so the theme matches the
colours that will really be written.

Pure and light: the app calls ``pick_theme(spec.theme, os.environ)`` at mount.
"""

from __future__ import annotations

from collections.abc import Mapping

ANSI_DARK = "ansi-dark"
ANSI_LIGHT = "ansi-light"
#: The config value that asks for the automatic choice (the same as leaving it out).
AUTO = "auto"

# Rich: TERM's last "-" part names the colours; anything it does not know is 16 colours.
_RICH_MORE_COLOURS = frozenset({"256color", "kitty"})
_NO_COLOUR_TERMS = frozenset({"", "dumb", "unknown"})
_LIGHT_BACKGROUNDS = frozenset({"7", "15"})  # COLORFGBG's background: white / bright white


def sixteen_colours(environ: Mapping[str, str], *, windows: bool = False) -> bool:
    """Whether output to this terminal is limited to the 16 ANSI colours (or none)."""
    if "NO_COLOR" in environ:
        return True  # as Textual reads it: present at all (it then drops every colour)
    forced = environ.get("TEXTUAL_COLOR_SYSTEM", "auto").strip().lower()
    if forced and forced != "auto":
        return forced == "standard"
    if windows:
        return False  # Windows consoles report truecolor or 256 colours to Rich
    if environ.get("COLORTERM", "").strip().lower() in ("truecolor", "24bit"):
        return False
    term = environ.get("TERM", "").strip().lower()
    if term in _NO_COLOUR_TERMS:
        return True
    return term.rpartition("-")[2] not in _RICH_MORE_COLOURS


def light_background(environ: Mapping[str, str]) -> bool:
    """``COLORFGBG`` (rxvt, Konsole, some others) says the background is light."""
    parts = environ.get("COLORFGBG", "").split(";")
    return len(parts) >= 2 and parts[-1].strip() in _LIGHT_BACKGROUNDS


def automatic_theme(environ: Mapping[str, str], *, windows: bool = False) -> str | None:
    """An ANSI theme on a 16-colour (or NO_COLOR) terminal; ``None`` keeps Textual's default."""
    if not sixteen_colours(environ, windows=windows):
        return None
    return ANSI_LIGHT if light_background(environ) else ANSI_DARK


def pick_theme(configured: str | None, environ: Mapping[str, str], *, windows: bool = False) -> str | None:
    """The configured theme wins; without one (or with ``"auto"``) the terminal decides."""
    if configured and configured.strip().lower() != AUTO:
        return configured
    return automatic_theme(environ, windows=windows)
