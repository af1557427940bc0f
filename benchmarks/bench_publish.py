"""`fitwheel build --all --jobs 2` of examples/variant-setuptools (4 variants) vs four
sequential `python -m build` runs, the way a publisher builds variants by hand.

- target:   `python -m fitwheel build SRC --all --jobs 2 --no-isolation -o OUT` (copies, builds,
            makes variant wheels, writes variants.json)
- baseline: for each variant, a fresh copy of the example and `python -m build --wheel
            --no-isolation` with the variant's CFLAGS (what `fitwheel build-flags` prints), one
            after the other; the wheels are not even made variant wheels

Both compile with gcc and use the installed setuptools (no isolation, so no index is needed
and installing the backend is not timed). Without isolation `fitwheel build` skips pypa/build's
environment check (its extra `get_requires` hook run, a whole `setup.py egg_info`), which the
hand-run baseline does as `python -m build` does by default. Rounds alternate target and baseline; the ratio of
the medians is printed. Aim (issue 17): below 0.7 on 2 cores. A second baseline, the same
sequential builds with `--skip-dependency-check`, shows what the parallel builds alone give.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "variant-setuptools"
ROUNDS = 3
AIM = 0.7
CFLAGS = {
    "x86_64_v4": "-march=x86-64-v4",
    "x86_64_v3": "-march=x86-64-v3",
    "x86_64_v2": "-march=x86-64-v2",
    "null": "",
}


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("FITWHEEL_", "CFLAGS"))}


def fitwheel_build(work: Path) -> float:
    out = work / "fitwheel-out"
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "fitwheel",
            "build",
            str(EXAMPLE),
            "--all",
            "--jobs",
            "2",
            "--no-isolation",
            "-o",
            str(out),
        ],
        env=environment(),
        check=True,
        capture_output=True,
    )
    elapsed = time.perf_counter() - start
    assert len(list(out.glob("*.whl"))) == len(CFLAGS)
    shutil.rmtree(out)
    return elapsed


def sequential_builds(work: Path, *extra: str) -> float:
    start = time.perf_counter()
    for label, cflags in CFLAGS.items():
        source = work / f"copy-{label}"
        shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
        env = environment()
        if cflags:
            env["CFLAGS"] = cflags
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "--wheel",
                "--no-isolation",
                "--outdir",
                str(work / "plain-out"),
                str(source),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        shutil.rmtree(source)
    elapsed = time.perf_counter() - start
    shutil.rmtree(work / "plain-out")
    return elapsed


def main() -> int:
    if shutil.which("gcc") is None:
        print("skipped: no gcc")
        return 0
    targets, baselines, unchecked = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        work = Path(tmp)
        for _ in range(ROUNDS):
            targets.append(fitwheel_build(work))
            baselines.append(sequential_builds(work))
            unchecked.append(sequential_builds(work, "--skip-dependency-check"))
    target, baseline = statistics.median(targets), statistics.median(baselines)
    ratio = target / baseline
    parallel = target / statistics.median(unchecked)
    print(
        f"fitwheel build --all --jobs 2 (4 variants): median {target:.2f} s "
        f"({', '.join(f'{t:.2f}' for t in targets)})"
    )
    print(
        f"4 sequential python -m build:              median {baseline:.2f} s "
        f"({', '.join(f'{b:.2f}' for b in baselines)})"
    )
    print(
        f"4 sequential python -m build -x:           median {statistics.median(unchecked):.2f} s "
        f"({', '.join(f'{b:.2f}' for b in unchecked)})"
    )
    print(
        f"ratio {ratio:.2f}x (aim below {AIM}x; cores here: {os.cpu_count()}); against the "
        f"same builds without the environment check: {parallel:.2f}x"
    )
    return 0 if ratio < AIM else 1


if __name__ == "__main__":
    sys.exit(main())
