"""One wheel from a project's own PEP 517 backend, through pypa/build in a child process.

A child process per build: each variant gets its own environment (the compiler flags), builds
run side by side, and a build that must stop can be killed with everything it started.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fitwheel.errors import FitwheelError

_POLL_SECONDS = 0.2
_ERROR_LINE_RE = re.compile(r"(^|[\s:])(fatal )?error:", re.IGNORECASE)
_REASON_LIMIT = 400


class BuildStopped(Exception):
    """The build was killed because another one failed (a signal between threads, never shown
    to a user)."""


@dataclass(frozen=True)
class BackendResult:
    """What one run of the backend left: its exit status, its output, the wheels it wrote."""

    returncode: int
    output: str
    wheels: tuple[Path, ...]

    @property
    def reason(self) -> str:
        """The line of the output that says why the build failed: the compiler's (or
        backend's) first `error:` line, else pypa/build's last line."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        for line in lines:
            if _ERROR_LINE_RE.search(line) and not line.startswith("ERROR "):
                return line[:_REASON_LIMIT]
        return lines[-1][:_REASON_LIMIT] if lines else "no output"


def require_build_frontend() -> None:
    spec = importlib.util.find_spec("build")
    if spec is None or spec.origin is None:  # None: a stray `build/` folder, not the package
        raise FitwheelError(
            "fitwheel build runs the project's backend through pypa/build, which is not "
            "installed here: pip install 'fitwheel[publish]' (or: pip install build)"
        )


def build_command(
    source: Path, outdir: Path, *, isolation: bool, config_settings: Sequence[str]
) -> list[str]:
    # -P: the project's own `build.py` or `build/` must not stand in for pypa/build.
    command = [sys.executable, "-P", "-m", "build", "--wheel", "--outdir", str(outdir)]
    if not isolation:
        # The environment is the caller's: pypa/build's check of it would run the backend's
        # get_requires hook (setuptools: a whole `setup.py egg_info`) once more per variant.
        # A missing requirement still fails the build, with the backend's import error.
        command += ["--no-isolation", "--skip-dependency-check"]
    command += [f"--config-setting={setting}" for setting in config_settings]
    return [*command, str(source)]


def run_backend(
    source: Path,
    outdir: Path,
    env: Mapping[str, str],
    *,
    isolation: bool = True,
    config_settings: Sequence[str] = (),
    stop: threading.Event | None = None,
) -> BackendResult:
    """Build a wheel of the project in `source` into `outdir` (which must be empty).

    `stop`, when set by another thread, kills the build and raises `BuildStopped`.
    """
    command = build_command(source, outdir, isolation=isolation, config_settings=config_settings)
    process = subprocess.Popen(
        command,
        cwd=outdir,  # pypa/build runs the backend in `source` itself
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the compilers die with it
    )
    while True:
        try:
            # Output gathered by earlier, timed-out calls is kept and returned by this one.
            out, _ = process.communicate(timeout=_POLL_SECONDS)
        except subprocess.TimeoutExpired:
            if stop is not None and stop.is_set():
                _kill(process)
                raise BuildStopped from None
            continue
        except BaseException:
            _kill(process)
            raise
        break
    output = (out or b"").decode(errors="replace")
    return BackendResult(process.returncode, output, tuple(sorted(outdir.glob("*.whl"))))


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
