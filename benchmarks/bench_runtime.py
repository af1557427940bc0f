"""Import of a fat package through `fitwheel.runtime` vs a plain import of its baseline extension.

Builds examples/fat-wheel (gcc, setuptools, no isolation) into a temporary folder, unpacks the
wheel, compiles its Python files, then times, each in a fresh interpreter (`python -I`), many
times and interleaved:

- target:   `import fatdemo` (vendored runtime + CPU detection + the chosen build's import)
- baseline: `import _impl_baseline` straight from the package folder (no dispatch at all)

The clock runs around the import statement only, inside the child, so interpreter start-up is
not counted. Budget (issue 6): at most 1 ms more, judged on the median difference of
back-to-back pairs (the difference of the two medians is printed too).
`FITWHEEL_RUNTIME_DIR` picks another copy of the runtime to vendor (default: this repository's).
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "fat-wheel"
BUDGET_MS = 1.0
REPETITIONS = 150

TIMED = (
    "import sys, time\n"
    "sys.path.insert(0, {path!r})\n"
    "start = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - start)\n"
)


def build_and_unpack(work: Path) -> Path:
    source = work / "source"
    subprocess.run(["cp", "-r", str(EXAMPLE), str(source)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FITWHEEL_RUNTIME_FORCE")}
    env.setdefault("FITWHEEL_RUNTIME_DIR", str(REPO / "src" / "fitwheel" / "runtime"))
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work)],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("fatdemo-*.whl")
    target = work / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    compileall.compile_dir(str(target), quiet=1)  # as an installer does
    return target


def time_import(path: Path, module: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FITWHEEL_")}
    result = subprocess.run(
        [sys.executable, "-I", "-c", TIMED.format(path=str(path), module=module)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout) * 1000.0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        site = build_and_unpack(Path(tmp))
        chosen = subprocess.run(
            [
                sys.executable,
                "-I",
                "-c",
                f"import sys; sys.path.insert(0, {str(site)!r}); "
                "import fatdemo; print(fatdemo.build())",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        target: list[float] = []
        baseline: list[float] = []
        for _ in range(REPETITIONS):
            target.append(time_import(site, "fatdemo"))
            baseline.append(time_import(site / "fatdemo", "_impl_baseline"))
    t_med, b_med = statistics.median(target), statistics.median(baseline)
    # Each target run is paired with the baseline run right after it, so a slow spell of the
    # shared machine moves both; the median of the pairs' differences is the verdict.
    extra = statistics.median(t - b for t, b in zip(target, baseline, strict=True))
    print(f"fat import (fitwheel.runtime -> {chosen}), {REPETITIONS} fresh interpreters:")
    print(f"  target   import fatdemo          min {min(target):.3f} ms  median {t_med:.3f} ms")
    print(f"  baseline import _impl_baseline   min {min(baseline):.3f} ms  median {b_med:.3f} ms")
    print(f"  difference of the medians {t_med - b_med:.3f} ms")
    verdict = "PASS" if extra <= BUDGET_MS else "FAIL"
    print(f"  extra (median of paired runs) {extra:.3f} ms, budget {BUDGET_MS:.1f} ms: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
