"""`fitwheel serve --status` and `--stop`: the shared proxies of this user, and stopping them.

Each state file is checked the way a wrapper checks it (a proven answer at its port); only a
proxy that proved itself is signalled, so a process id reused by another program is never.
A state file whose proxy does not answer is stale: shown as such, and removed by `--stop`.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from fitwheel.index.credentials import redact
from fitwheel.installers.shared.client import Hello, hello
from fitwheel.installers.shared.state import (
    ProxyState,
    all_states,
    forget,
    locked,
    start_lock,
)

STATUS_TIMEOUT = 5.0


@dataclass(frozen=True)
class ProxyStatus:
    """A state file, what it says, and whether its proxy answered."""

    path: Path
    state: ProxyState | None
    answer: Hello | None

    def as_dict(self) -> dict[str, object]:
        state = self.state
        if state is None:
            return {"state_file": str(self.path), "running": False}
        return {
            "state_file": str(self.path),
            "running": self.answer is not None,
            "key": state.key,
            "pid": state.pid,
            "url": state.url + "/simple/",
            "profile": state.profile_source,
            "upstreams": [redact(u) for u in state.upstreams],
            "families": list(state.families or state.default_families),
            "idle_seconds": None if self.answer is None else round(self.answer.idle, 1),
            "exit_when_idle": state.exit_when_idle,
            "fitwheel": state.fitwheel,
            "log": str(self.path.with_suffix(".log")),
        }


def statuses(directory: Path, timeout: float = STATUS_TIMEOUT) -> list[ProxyStatus]:
    """Every shared proxy's state file in `directory`, each asked whether it runs."""
    found = []
    for path, state in all_states(directory):
        answer = hello(state, timeout) if state is not None and state.pid is not None else None
        found.append(ProxyStatus(path, state, answer))
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    # Our own child (a test's, a wrapper still running) lingers as a zombie until reaped.
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            return stream.read().rpartition(b")")[2].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def stop(status: ProxyStatus, timeout: float = 10.0) -> str:
    """Stop one proxy (SIGTERM, then SIGKILL after `timeout`) or remove a stale state file;
    what was done, in words."""
    state = status.state
    if state is None:
        status.path.unlink(missing_ok=True)
        return f"removed {status.path} (not a state file)"
    if status.answer is None:
        with locked(start_lock(status.path.parent, state.key), exclusive=True):
            forget(status.path.parent, state.key, state.pid)
        return f"removed the stale state of {state.url}/simple/ (pid {state.pid} did not answer)"
    pid = status.answer.pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    with locked(start_lock(status.path.parent, state.key), exclusive=True):
        forget(status.path.parent, state.key, state.pid)
    return f"stopped {state.url}/simple/ (pid {pid})"
