"""The processes of a session, read from /proc (Linux): what a killed command left running."""

from __future__ import annotations

import os
from pathlib import Path


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
