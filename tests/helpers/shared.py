"""Stopping the shared proxies a test's `fitwheel pip` / `fitwheel uv` runs started.

`clean_env` gives each test its own cache folder (`FITWHEEL_CACHE_DIR`) and notes it here; the
autouse fixture in `conftest.py` stops every shared proxy in those folders after each test,
the way `fitwheel serve --stop` does, and then kills (and reports) any proxy process whose
command line still names one of them, so no test leaves a process behind.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from fitwheel.installers.shared.control import statuses, stop

CACHE_DIRS: set[Path] = set()
"""Cache folders handed out by `clean_env` since the last cleanup."""


def proxy_processes(cache_dir: Path) -> list[int]:
    """Process ids of `fitwheel serve --shared STATE` with STATE under `cache_dir` (a
    `FITWHEEL_CACHE_DIR`)."""
    found = []
    marker = str(cache_dir / "proxies").encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as stream:
                argv = stream.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as stream:
                zombie = stream.read().rpartition(b")")[2].split()[0] == b"Z"
        except (OSError, IndexError):
            continue
        if not zombie and b"--shared" in argv and any(a.startswith(marker) for a in argv):
            found.append(int(entry))
    return found


def stop_shared_proxies(cache_dir: Path) -> list[int]:
    """Stop the shared proxies of `cache_dir` (a `FITWHEEL_CACHE_DIR`); the ids of those that
    had to be killed."""
    for status in statuses(cache_dir / "proxies", timeout=2.0):
        stop(status)
    leftover = proxy_processes(cache_dir)
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while proxy_processes(cache_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    return leftover
