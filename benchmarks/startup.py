"""Start-up benchmark: Textual's hello world vs ``crewos-tui --demo``, side by side.

Each run spawns a fresh process in a pseudo-terminal (80x24) and measures, from
just before the spawn, until a marker text appears in the bytes the app writes to
the terminal: the first frame (both apps) or the first project rows (crewos-tui).
Runs alternate between the cases so machine noise hits them alike; medians are
reported.

    python benchmarks/startup.py [--runs 9]

Targets (issue 3): first frame within 1.3x of hello world, first row within 1.6x.
Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def crewos_command() -> list[str]:
    exe = Path(sys.executable).parent / "crewos-tui"
    if exe.exists():
        return [str(exe), "--demo"]
    return [sys.executable, "-m", "crewos_tui.cli", "--demo"]


def run_once(cmd: list[str], marker: str, env: dict[str, str], timeout: float = 60.0) -> tuple[float, float]:
    """(wall, cpu) seconds from spawn until ``marker`` appears in what the app wrote
    to its terminal; cpu is the process's user+system time until it is killed.

    Measured from outside, on the bytes a terminal would draw: no hook in the app,
    nothing the app could report early. CPU time is what a busy machine distorts
    least, so it is reported next to wall time."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    needle = marker.encode()
    seen = threading.Event()
    seen_at = [0.0]

    def watch() -> None:
        tail = b""
        while True:
            try:
                chunk = os.read(master, 65536)  # also drains: a full pty would block the app
            except OSError:
                return
            if not chunk:
                return
            window = tail + chunk
            if not seen.is_set() and needle in window:
                seen_at[0] = time.time()
                seen.set()
            tail = window[-len(needle):]

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    start = time.time()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    cpu = 0.0
    try:
        if not seen.wait(timeout):
            raise RuntimeError(f"{' '.join(cmd)}: {marker!r} did not appear within {timeout:g} s")
    finally:
        proc.kill()
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = status  # reaped here, so Popen does not wait again
        cpu = usage.ru_utime + usage.ru_stime
        os.close(slave)
        os.close(master)
        reader.join(timeout=5)
    return seen_at[0] - start, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="runs per case (default 9)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="crewos-bench-"))
    env = {
        **os.environ,
        "TERM": os.environ.get("TERM", "xterm-256color"),
        "CREWOS_TUI_DATA_DIR": str(home / "data"),
        "CREWOS_TUI_CONFIG_DIR": str(home / "config"),
    }
    env.pop("CREWOS_API_KEY", None)
    hello = [sys.executable, str(HERE / "hello.py")]
    crewos = crewos_command()
    # What each case waits for on screen: the hello text; the status bar, which is
    # part of the first frame; the oldest demo project, the last row of the list.
    cases = [
        ("hello world: first frame", hello, "Hello, world!"),
        ("crewos-tui --demo: first frame", crewos, "1 Projects"),
        ("crewos-tui --demo: first project row", crewos, "Atlas Launch"),
    ]
    try:
        # Warm-up: seeds the demo database and fills the OS file cache; not measured.
        for _name, cmd, marker in cases:
            run_once(cmd, marker, env)
        wall: dict[str, list[float]] = {name: [] for name, _c, _s in cases}
        cpu: dict[str, list[float]] = {name: [] for name, _c, _s in cases}
        for _ in range(args.runs):
            for name, cmd, marker in cases:
                w, c = run_once(cmd, marker, env)
                wall[name].append(w)
                cpu[name].append(c)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    floor_name = cases[0][0]
    print(f"{'case':38} {'wall median':>11} {'min':>7} {'ratio':>6}   {'cpu median':>10} {'ratio':>6}")
    ratios: dict[str, tuple[float, float]] = {}
    for name, walls in wall.items():
        w, c = statistics.median(walls), statistics.median(cpu[name])
        rw, rc = w / statistics.median(wall[floor_name]), c / statistics.median(cpu[floor_name])
        ratios[name] = (rw, rc)
        print(f"{name:38} {w * 1000:9.0f}ms {min(walls) * 1000:5.0f}ms {rw:5.2f}x   "
              f"{c * 1000:8.0f}ms {rc:5.2f}x")
    for label, name, target in (("first frame", cases[1][0], 1.3), ("first row", cases[2][0], 1.6)):
        rw, rc = ratios[name]
        verdict = "OK" if rw <= target else "OVER"
        print(f"{label}: {rw:.2f}x hello world wall ({rc:.2f}x cpu); target <= {target}x: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
