"""`fitwheel verify` at container start: an environment of 200 installed distributions.

Installs 200 tiny wheels (20 of them variant builds, the rest plain) into a fresh venv with
pip, then times, as whole processes, interleaved:

- target:   `fitwheel verify --python VENV --profile P` (offline: reads every dist-info once)
- baseline: `pip list --python VENV` over the same environment (what people run to look)

Reported: median wall time of each and the ratio (issue 13: "fast enough to run at container
start"; no fixed budget, the figure goes in the note).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.variants import make_variant, plain_wheel  # noqa: E402

DISTRIBUTIONS = 200
VARIANTS = 20
ROUNDS = 9
ENV = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def populate(root: Path) -> list[Path]:
    wheels = []
    for number in range(DISTRIBUTIONS - VARIANTS):
        wheels.append(plain_wheel(root / "plain", f"plainpkg{number}", "1.0"))
    for number in range(VARIANTS):
        base = plain_wheel(root / "base", f"gpupkg{number}", "1.0")
        built = make_variant(
            base,
            root / "variants",
            "nvidia :: cuda_version_lower_bound :: 12.8",
            "nvidia :: sm_arch :: 86_real",
            label="cu128",
        )
        served = root / "served" / (built.name.rpartition("-")[0] + ".whl")
        served.parent.mkdir(exist_ok=True)
        wheels.append(Path(shutil.copy(built, served)))
    return wheels


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        wheels = populate(root)
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True
        )
        python = root / "venv" / "bin" / "python"
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
             "--no-index", "--no-deps", *map(str, wheels)],
            check=True, env=ENV,
        )  # fmt: skip
        profile = root / "ampere.toml"
        profile.write_text(
            '[variants.nvidia]\ncuda_version_lower_bound = ["12.8"]\nsm_arch = ["86_real"]\n'
        )
        commands = {
            "fitwheel verify": [sys.executable, "-m", "fitwheel", "verify", "--python",
                                str(python), "--profile", str(profile)],
            "pip list": [sys.executable, "-m", "pip", "--python", str(python), "list"],
        }  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(ROUNDS):
            for name, command in commands.items():
                start = time.perf_counter()
                result = subprocess.run(command, capture_output=True, text=True, env=ENV)
                times[name].append(time.perf_counter() - start)
                if result.returncode != 0:
                    print(result.stdout, result.stderr)
                    return 1
        verify, listing = (statistics.median(times[n]) for n in commands)
        print(f"  {DISTRIBUTIONS} installed distributions ({VARIANTS} variant builds)")
        print(f"  fitwheel verify  {verify * 1000:7.1f} ms (median of {ROUNDS})")
        print(f"  pip list         {listing * 1000:7.1f} ms")
        print(f"  ratio            {verify / listing:7.2f}x pip list")
    return 0


if __name__ == "__main__":
    sys.exit(main())
