"""Artefacts for the resolving-proxy tests: real variant wheels, an sdist, plain dependencies.

`build_wheelhouse(folder)` writes a flat folder of distributions (what `fitwheel index build`
takes as its source):

- `fastmath` 1.0: x86-64 level variants `v2`, `v3`, `v4` (`x86_64 :: level :: vN`), a null
  variant, and a plain fallback wheel.
- `torchlike` 2.10.0: `helpers.catalog`'s `cuda12.6` (lower bound 12.6, sm 60..90 real),
  `cuda12.8` (12.8, sm 70..120 real), `rocm7.1`, `xpu`, plus `cuda13.0` (13.0, sm 75..120
  real) and `null`, and a plain fallback; requires `typing-shim`.
- `visionlike` 0.25.0: `cuda12.6`/`cuda12.8`/`cuda13.0`/`null` variants requiring
  `torchlike==2.10.0` and `pillow-shim`.
- `sdistonly` 1.0: an sdist whose in-tree build backend needs nothing from an index.
- plain dependencies `typing-shim`, `pillow-shim`, and `filler-NN` packages for benchmarks.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

from helpers import catalog
from helpers.variants import make_variant
from wheelmaker import make_wheel

# The PyTorch-like labels of `helpers.catalog`, plus a CUDA 13 build for newer drivers.
TORCH_VARIANTS: dict[str, tuple[str, ...]] = {
    **catalog.TORCH_VARIANTS,
    "cuda13.0": (
        "nvidia :: cuda_version_lower_bound :: 13.0",
        *(f"nvidia :: sm_arch :: {a}_real" for a in (75, 80, 86, 90, 100, 120)),
    ),
}
VISION_LABELS = ("cuda12.6", "cuda12.8", "cuda13.0")
LEVELS = ("v2", "v3", "v4")


def wheel_with_requirements(
    directory: Path, name: str, version: str, requires: Sequence[str] = ()
) -> Path:
    """A real pure wheel whose METADATA carries `Requires-Dist` lines."""
    return make_wheel(
        directory, name, version, metadata=tuple(f"Requires-Dist: {r}" for r in requires)
    )


def _variants(
    out: Path,
    work: Path,
    name: str,
    version: str,
    variants: dict[str, tuple[str, ...]],
    requires: Sequence[str],
    priority: str,
) -> None:
    base = wheel_with_requirements(work, name, version, requires)
    for label, properties in variants.items():
        make_variant(base, out, *properties, label=label, namespace_priority=priority)
    make_variant(base, out, null=True, namespace_priority=priority)
    (out / base.name).write_bytes(base.read_bytes())  # the plain fallback


_BACKEND = '''
"""A build backend that needs nothing: builds the one-module wheel from this tree."""
import base64, hashlib, os, zipfile

NAME, VERSION = "sdistonly", "1.0"
DIST = f"{NAME}-{VERSION}.dist-info"


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {
        f"{NAME}.py": open(os.path.join(os.path.dirname(__file__), f"{NAME}.py"), "rb").read(),
        f"{DIST}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n".encode(),
        f"{DIST}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(f"{p},{_hash(d)},{len(d)}\\n" for p, d in files.items()) + f"{DIST}/RECORD,,\\n"
    files[f"{DIST}/RECORD"] = record.encode()
    filename = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return filename
'''


def sdist_only(out: Path) -> Path:
    """`sdistonly-1.0.tar.gz`, buildable offline by pip and uv (in-tree backend)."""
    members = {
        "PKG-INFO": "Metadata-Version: 2.1\nName: sdistonly\nVersion: 1.0\n",
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n',
        "backend.py": _BACKEND,
        "sdistonly.py": "BUILT_FROM_SDIST = True\n",
    }
    path = out / "sdistonly-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"sdistonly-1.0/{member}")
            info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def build_wheelhouse(out: Path, *, fillers: int = 0) -> Path:
    """Write every test distribution and its variants.json files into `out` (flat)."""
    import subprocess
    import sys

    out.mkdir(parents=True, exist_ok=True)
    work = out.parent / f"{out.name}-work"
    work.mkdir(exist_ok=True)
    _variants(
        out,
        work,
        "fastmath",
        "1.0",
        {level: (f"x86_64 :: level :: {level}",) for level in LEVELS},
        (),
        "x86_64",
    )
    _variants(
        out, work, "torchlike", "2.10.0", TORCH_VARIANTS, ("typing-shim",), catalog.TORCH_NAMESPACES
    )
    _variants(
        out,
        work,
        "visionlike",
        "0.25.0",
        {label: TORCH_VARIANTS[label] for label in VISION_LABELS},
        ("torchlike==2.10.0", "pillow-shim"),
        catalog.TORCH_NAMESPACES,
    )
    sdist_only(out)
    wheel_with_requirements(out, "typing-shim", "1.0")
    wheel_with_requirements(out, "pillow-shim", "1.0")
    for number in range(fillers):
        requires = (f"filler-{number + 1:02d}",) if number % 4 != 3 and number + 1 < fillers else ()
        wheel_with_requirements(out, f"filler-{number:02d}", "1.0", requires)
    command = [sys.executable, "-m", "fitwheel", "variants", "generate", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return out


# Profiles the issue names, as `fitwheel detect` override environments (empty = absent).
NO_GPU = {"FITWHEEL_CUDA_DRIVER": "", "FITWHEEL_CUDA_ARCH": "", "FITWHEEL_AMD_GFX": ""}
OVERRIDES: dict[str, dict[str, str]] = {
    "ampere_cu128": {**NO_GPU, "FITWHEEL_CUDA_DRIVER": "12.8", "FITWHEEL_CUDA_ARCH": "8.6"},
    "pascal_cu128": {**NO_GPU, "FITWHEEL_CUDA_DRIVER": "12.8", "FITWHEEL_CUDA_ARCH": "6.1"},
    "hopper_cu130": {**NO_GPU, "FITWHEEL_CUDA_DRIVER": "13.0", "FITWHEEL_CUDA_ARCH": "9.0"},
    "cpu": dict(NO_GPU),
    "cpu_v2": {**NO_GPU, "FITWHEEL_X86_64_LEVEL": "v2"},
}
EXPECTED_TORCH = {
    "ampere_cu128": "cuda12.8",
    "pascal_cu128": "cuda12.6",
    "hopper_cu130": "cuda13.0",
    "cpu": "null",
    "cpu_v2": "null",
}


def clean_env(tmp: Path, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without the user's pip/uv/fitwheel settings, plus `overrides`; the
    fitwheel cache folder (and so the shared proxies' state) is `tmp/fitwheel-cache`."""
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "FITWHEEL_", "VIRTUAL_ENV"))
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_CACHE_DIR="1",
        UV_CACHE_DIR=str(tmp / "uv-cache"),
        UV_NO_CONFIG="1",
        FITWHEEL_CACHE_DIR=str(tmp / "fitwheel-cache"),
    )
    env.update(overrides or {})
    from helpers.shared import CACHE_DIRS

    CACHE_DIRS.add(tmp / "fitwheel-cache")  # its shared proxies are stopped after the test
    return env


def detect_profile(path: Path, overrides: dict[str, str]) -> Path:
    """Write the profile `fitwheel detect` reports under `overrides` to `path` (JSON)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "fitwheel", "detect", "--format", "json"],
        env=clean_env(path.parent, overrides),
        capture_output=True,
        check=True,
        timeout=60,
    )
    path.write_bytes(result.stdout)
    return path


def build_index(root: Path, *, fillers: int = 0) -> Path:
    """Build the wheelhouse under `root/src` and its static index (`fitwheel index build`)."""
    import subprocess
    import sys

    src = build_wheelhouse(root / "src", fillers=fillers)
    out = root / "out"
    command = [sys.executable, "-m", "fitwheel", "index", "build", str(src), str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return out
