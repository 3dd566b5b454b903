"""Layering rules, checked: the data layer never imports the UI, and the first
frame never pays for the ORM, the server or the HTTP client."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import crewos_tui

PACKAGE = Path(crewos_tui.__file__).parent
HEAVY = ("sqlalchemy", "sqlmodel", "fastapi", "uvicorn", "httpx", "aiosqlite", "pydantic", "keyring")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_backend_never_imports_textual() -> None:
    offenders = []
    for path in sorted((PACKAGE / "backend").rglob("*.py")):
        for name in imported_modules(path):
            if name == "textual" or name.startswith(("textual.", "rich")):
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []


def test_first_frame_imports_stay_light() -> None:
    """Importing the app (and the first screen) loads none of the heavy libraries."""
    code = (
        "import sys, json, crewos_tui.app, crewos_tui.screens.projects; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
