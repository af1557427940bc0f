"""`fitwheel` as a real process, run the way a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Variables that describe a machine to fitwheel (its own overrides, a profile) or to uv.
MACHINE_VARIABLES = ("FITWHEEL_", "NV_VARIANT_PROVIDER_", "TPU_VARIANT_PROVIDER_")


def fitwheel(
    *args: str | Path,
    check: bool = False,
    clean: bool = False,
    cwd: Path | None = None,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    **env_extra: str,
) -> subprocess.CompletedProcess[str]:
    """`python -m fitwheel ARGS...`, output captured as text.

    `check` asserts success (showing stderr otherwise). `env` replaces the whole environment
    (default: this process's). `clean` drops every variable that describes a machine, so that
    only the test's `env_extra` (or `extra_env`, for a dict) does, and points the driver cache
    at nothing.
    """
    env_extra = {**(extra_env or {}), **env_extra}
    if clean or env_extra:
        env = dict(os.environ if env is None else env)
        if clean:
            env = {k: v for k, v in env.items() if not k.startswith(MACHINE_VARIABLES)}
            env["FITWHEEL_CACHE_DIR"] = os.devnull + "-unused"
        env.update(env_extra)
    completed = subprocess.run(
        [sys.executable, "-m", "fitwheel", *map(str, args)],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


def detect_json(*args: str, **env: str) -> dict[str, Any]:
    """`fitwheel detect --format json ARGS` in a clean environment plus `env`, decoded."""
    document: dict[str, Any] = json.loads(
        fitwheel("detect", "--format", "json", *args, check=True, clean=True, extra_env=env).stdout
    )
    return document
