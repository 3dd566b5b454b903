"""Guards on the test suite itself: a test that hangs fails within its limit and says
where it hung, instead of eating CI's time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def test_every_test_has_a_time_limit_that_prints_the_stack(pytestconfig: pytest.Config) -> None:
    assert 0 < float(pytestconfig.getini("timeout")) <= 120
    assert pytestconfig.getini("timeout_method") == "thread"  # dumps every thread's stack


def test_a_hanging_test_fails_within_its_limit_with_its_stack(tmp_path: Path) -> None:
    (tmp_path / "test_hangs.py").write_text(textwrap.dedent("""
        import threading

        def test_waits_for_an_event_nobody_sets():
            threading.Event().wait()
    """))
    # The repository's own configuration, with the limit lowered so the guard is quick.
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider", "-o", "timeout=3",
         "--rootdir", str(tmp_path), "-c", str(Path(__file__).resolve().parents[1] / "pyproject.toml"),
         str(tmp_path / "test_hangs.py")],
        capture_output=True, text=True, timeout=90)
    said = out.stdout + out.stderr
    assert out.returncode != 0
    # The stack names the frame it hung in, not only the test.
    assert "Timeout" in said and ", in test_waits_for_an_event_nobody_sets" in said, said[-2000:]
