"""`fitwheel` as a real process, run the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Variables that describe a machine to fitwheel (its own overrides, a profile) or to uv.
MACHINE_VARIABLES = ("FITWHEEL_", "NV_VARIANT_PROVIDER_", "TPU_VARIANT_PROVIDER_")


def fitwheel(
    *args: str | Path,
    check: bool = False,
    clean: bool = False,
    cwd: Path | None = None,
    timeout: float = 120,
    **env_extra: str,
) -> subprocess.CompletedProcess[str]:
    """`python -m fitwheel ARGS...`, output captured as text.

    `check` asserts success (showing stderr otherwise). `clean` drops every variable that
    describes a machine, so that only the test's `env_extra` does, and points the driver cache
    at nothing.
    """
    env = None
    if clean or env_extra:
        env = dict(os.environ)
        if clean:
            env = {k: v for k, v in env.items() if not k.startswith(MACHINE_VARIABLES)}
            env["FITWHEEL_CACHE_DIR"] = os.devnull + "-unused"
        env.update(env_extra)
    completed = subprocess.run(
        [sys.executable, "-m", "fitwheel", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed
