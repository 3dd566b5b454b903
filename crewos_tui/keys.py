"""Escape-then-key, the way it arrives over SSH and tmux.

A terminal sends Alt+key as ESC followed by the key, so an Escape pressed just before
a key (within Textual's ``ESCDELAY``, 100 ms, easily reached over a slow link or
through tmux) arrives as one Alt+key. Two things go wrong in Textual 8.2.8:

- its key table maps ESC+digit (and ESC+``-``/``=``) to the characters macOS's Option
  key types (``£`` for ESC 3), so Escape-then-3 in a filter types ``£`` into it;
- an Alt+key nobody binds is still printable, so an Input types the bare key.

``adopt_escape_digits`` drops those table entries (ESC+3 then reads as Alt+3), and
``split_escape`` turns an Alt+character that no active binding claims back into the
two keys the user pressed: Escape (which leaves a filter or closes a dialog), then
the key (a digit switches screens). An Alt+key that something binds keeps its meaning;
Alt+Enter (a new line in chat) is not a character and is left alone.
"""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App

#: The second characters of the ESC sequences Textual reads as macOS Option characters.
_ESCAPE_CHARACTERS = frozenset("0123456789-=")


def adopt_escape_digits() -> None:
    """Read ESC+digit as Alt+digit instead of a macOS Option character (idempotent)."""
    from textual import _ansi_sequences

    table = _ansi_sequences.ANSI_SEQUENCES_KEYS
    for sequence in [s for s, value in table.items()
                     if len(s) == 2 and s[0] == "\x1b" and s[1] in _ESCAPE_CHARACTERS and isinstance(value, str)]:
        del table[sequence]  # type: ignore[attr-defined]  # a plain dict at run time


async def replay(app: App[Any], keys: tuple[events.Key, ...]) -> None:
    """Post ``keys`` one at a time, each once the one before has been handled (as Pilot
    does): Escape's change of focus or closed dialog decides where the next key goes."""
    from textual._wait import wait_for_idle  # the wait Textual's Pilot uses between keys

    for key in keys:
        app.post_message(key)
        await wait_for_idle(0)


def split_escape(event: events.Key, bound: Container[str]) -> tuple[events.Key, events.Key] | None:
    """Escape and the bare key for an unbound Alt+character, else None."""
    modifier, plus, rest = event.key.partition("+")
    if modifier != "alt" or not plus or event.key in bound:
        return None
    character = event.character or (rest if len(rest) == 1 else None)
    if character is None or len(character) != 1 or not character.isprintable():
        return None
    bare = character if rest.startswith("shift+") else rest  # alt+shift+a is "A" typed after Escape
    return events.Key("escape", "\x1b"), events.Key(bare, character)
