"""`fitwheel sync` of a 50-package lock against `uv pip install -r pylock.toml` of the same lock.

Standalone: `python benchmarks/bench_lock.py` (or `python benchmarks/run.py lock`). It builds
50 plain packages (the test wheelhouse's `filler-NN`), indexes them, serves them with nginx on
127.0.0.1 and writes one lock with `fitwheel lock` (no variant package: uv reads it as is).
The index is then stopped and both installers read the wheels from local disk: fitwheel from
the wheel folder (`--find-links`), uv from a copy of the lock whose URLs are `file://` URLs
into that folder. Each run installs into a fresh venv, uv with a cold cache; medians of
alternating runs, and their ratio (target: at most 1.5x).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.nginx import start_nginx  # noqa: E402
from helpers.serve_fixtures import OVERRIDES, build_index, clean_env  # noqa: E402
from helpers.venvs import fresh_venv  # noqa: E402

ROUNDS = 5
PACKAGES = 50


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return elapsed


def main() -> int:
    from uv import find_uv_bin

    with tempfile.TemporaryDirectory(prefix="fitwheel-bench-lock-") as scratch:
        root = Path(scratch)
        out = build_index(root, fillers=PACKAGES)
        wheels = root / "src"
        env = clean_env(root, OVERRIDES["cpu"])
        lock = root / "pylock.toml"
        requirements = [f"filler-{n:02d}" for n in range(PACKAGES)]
        with start_nginx(out, root) as nginx:
            command = [sys.executable, "-m", "fitwheel", "lock", *requirements]
            timed([*command, "--index-url", nginx.url, "-o", str(lock)], env)
            text = lock.read_text()
        # The same lock with each wheel's URL pointing into the wheel folder.
        local = root / "pylock.local.toml"
        local.write_text(
            re.sub(r'url = "[^"]*/([^"/]+)"', lambda m: f'url = "file://{wheels}/{m[1]}"', text)
        )
        count = text.count("[[packages]]")
        assert count == PACKAGES, count
        times: dict[str, list[float]] = {"fitwheel sync": [], "uv pip install": []}
        for round_ in range(ROUNDS):
            python = fresh_venv(root / f"fw-{round_}")
            times["fitwheel sync"].append(
                timed(
                    [sys.executable, "-m", "fitwheel", "sync", str(lock), "--python", str(python),
                     "--find-links", str(wheels)],
                    env,
                )
            )  # fmt: skip
            python = fresh_venv(root / f"uv-{round_}")
            uv_env = {**env, "UV_CACHE_DIR": str(root / f"uv-cache-{round_}")}
            times["uv pip install"].append(
                timed(
                    [str(find_uv_bin()), "pip", "install", "--python", str(python),
                     "-r", str(local)],
                    uv_env,
                )
            )  # fmt: skip
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:>16}: {value * 1000:7.0f} ms (median of {ROUNDS}, {PACKAGES} packages)")
    ratio = medians["fitwheel sync"] / medians["uv pip install"]
    print(f"{'ratio':>16}: {ratio:.2f}x (target: at most 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
