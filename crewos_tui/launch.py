"""What the app was asked to open, resolved from the command line and the profile.

Kept free of heavy imports: the CLI builds a ``LaunchSpec`` before anything else
loads, and the app shows its first frame before ``connect.open_backend`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class LaunchSpec:
    profile: str  # profile name, e.g. "local"
    mode: Literal["local", "remote"]
    demo: bool = False
    data_dir: Path | None = None  # local mode; None = platformdirs' data dir
    url: str | None = None  # remote mode
    username: str | None = None  # local: act as this user (--as); remote: the login name
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys
    theme: str | None = None  # None or "auto": chosen by the terminal (themes.pick_theme)
    #: Tell a user who looks away when a decision waits (OSC 9/777, title mark; attention.py).
    desktop_notifications: bool = True

    @property
    def badge(self) -> str:
        """LOCAL / DEMO / REMOTE, as the status bar shows it."""
        return "DEMO" if self.demo else self.mode.upper()
