"""The processes of a session, read from /proc (Linux): what a killed command left running."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any


def alive_in_session(session: int) -> list[int]:
    """Processes of `session` that are still running (zombies excepted)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[3]) == session and fields[0] != "Z":
            alive.append(int(entry))
    return alive


def stop(
    process: subprocess.Popen[Any], signum: int = signal.SIGTERM, timeout: float = 10.0
) -> None:
    """Stop a server the test started with `signum`, then by force if it has not exited."""
    process.send_signal(signum)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def interrupt(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Stop a server the test started as Ctrl-C would (see `stop`)."""
    stop(process, signal.SIGINT, timeout)
