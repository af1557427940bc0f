"""Worker processes of a large index build end with the build, even when it is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.processes import alive_in_session

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads the process table from /proc"
)

# Each worker sleeps far longer than the test waits: only its parent's death can end it.
_PROGRAM = """
import sys, time
from fitwheel.index.workers import map_in_workers
for _ in map_in_workers(time.sleep, [60, 60], workers=2, chunksize=1):
    pass
"""


def test_workers_die_with_a_killed_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PROGRAM], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(alive_in_session(parent.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(alive_in_session(parent.pid)) == 3, "the two workers never started"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 2
        while (left := alive_in_session(parent.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert left == [], "workers outlived the build that started them"
    finally:
        for pid in alive_in_session(parent.pid):
            os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
            parent.wait()
