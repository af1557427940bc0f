"""`fitwheel verify` on real environments: builds installed by pip, re-checked against machines."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import fitwheel
from helpers.variants import make_variant, plain_wheel
from helpers.venvs import fresh_venv, installed_dist_info
from wheelmaker import make_wheel

RUNTIME = Path(__file__).resolve().parent.parent / "src" / "fitwheel" / "runtime"
AMPERE = """[variants.nvidia]
cuda_version_lower_bound = ["12.8", "12.7", "12.6"]
sm_arch = ["86_real", "80_real"]
"""
NO_GPU = "[variants]\n"
CU126 = ("nvidia :: cuda_version_lower_bound :: 12.6", "nvidia :: sm_arch :: 80_real")
CU128 = ("nvidia :: cuda_version_lower_bound :: 12.8", "nvidia :: sm_arch :: 86_real")


def pip_install(python: Path, *wheels: Path) -> None:
    env = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index",
         "--no-deps", *map(str, wheels)],
        check=True, env=env, timeout=120,
    )  # fmt: skip


def as_served(wheel: Path, folder: Path) -> Path:
    """The variant wheel under its label-less name, as fitwheel's proxy serves it to pip."""
    folder.mkdir(parents=True, exist_ok=True)
    name = wheel.name.rpartition("-")[0] + ".whl"
    return Path(shutil.copy(wheel, folder / name))


def fat_wheel(directory: Path) -> Path:
    """A fat wheel: two builds of `_impl` and a vendored copy of fitwheel.runtime."""
    files: dict[str, str | bytes] = {
        f"fatpkg/_fitwheel_runtime/{p.name}": p.read_bytes() for p in RUNTIME.glob("*.py")
    }
    files["fatpkg/__init__.py"] = (
        "from ._fitwheel_runtime import Candidate, choose\n"
        "CANDIDATES = [Candidate('_impl_v3', ['x86_64 :: level :: v3'])]\n"
        "_impl = choose(__name__, CANDIDATES, baseline='_impl_base')\n"
    )
    files["fatpkg/_impl_v3.py"] = "BUILD = 'v3'\n"
    files["fatpkg/_impl_base.py"] = "BUILD = 'base'\n"
    return make_wheel(directory, "fatpkg", "1.0", files=files)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("verify")
    plain = plain_wheel(root / "plain", "gpupkg", "1.0")
    index = root / "index"
    cu126 = make_variant(plain, index, *CU126, label="cu126")
    cu128 = make_variant(plain, index, *CU128, label="cu128")
    make_variant(plain, index, null=True, namespace_priority="nvidia")
    fitwheel("variants", "generate", str(index), check=True)
    return {
        "index": index,
        "cu126": as_served(cu126, root / "served126"),
        "cu128": as_served(cu128, root / "served128"),
        "fat": fat_wheel(root / "fat"),
    }


def verify(python: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return fitwheel(
        "verify", "--python", str(python), "--profile", str(profile), *extra, clean=True
    )


@pytest.mark.slow
def test_a_fitting_build_a_moved_environment_and_a_fat_wheel(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    python = fresh_venv(tmp_path / "venv")
    pip_install(python, builds["cu128"], builds["fat"])
    ampere, cpu_only = tmp_path / "ampere.toml", tmp_path / "cpu.toml"
    ampere.write_text(AMPERE)
    cpu_only.write_text(NO_GPU + "[facts.cpu]\narchitecture = 'x86_64'\nx86_64_level = 'v3'\n")

    fits = verify(python, ampere, "--format", "json")
    assert fits.returncode == 0, fits.stderr
    report = json.loads(fits.stdout)
    by_name = {p["name"]: p for p in report["packages"]}
    assert by_name["gpupkg"]["status"] == "fits" and by_name["gpupkg"]["label"] == "cu128"
    assert by_name["fatpkg"]["status"] == "fits"
    assert "imports its build" in by_name["fatpkg"]["reason"]

    # The same environment moved to a machine without a GPU: caught, with the fix.
    moved = verify(python, cpu_only)
    assert moved.returncode == 1, moved.stdout
    lines = moved.stdout.splitlines()
    (line,) = [x for x in lines if x.startswith("  ✗ gpupkg")]
    assert (
        line
        == "  ✗ gpupkg 1.0 [cu128]: does not fit: the target supports nothing in namespace 'nvidia'"
    )
    assert (
        f"fix: fitwheel pip --profile {cpu_only} install --force-reinstall --no-deps "
        "gpupkg==1.0" in moved.stdout
    )
    assert "Traceback" not in moved.stderr


@pytest.mark.slow
def test_a_better_build_is_named_when_an_index_is_given(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    python = fresh_venv(tmp_path / "venv")
    pip_install(python, builds["cu126"])
    ampere = tmp_path / "ampere.toml"
    ampere.write_text(AMPERE)
    offline = verify(python, ampere)
    assert offline.returncode == 0, offline.stderr
    assert "✓ gpupkg 1.0 [cu126]: fits" in offline.stdout
    online = verify(python, ampere, "--index-url", str(builds["index"]))
    assert online.returncode == 0, online.stderr
    assert "~ gpupkg 1.0 [cu126]: better build available: cu128 ranks first" in online.stdout


@pytest.mark.slow
def test_a_malformed_variant_json_is_one_clear_line(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    python = fresh_venv(tmp_path / "venv")
    pip_install(python, builds["cu128"])
    dist_info = installed_dist_info(python, "gpupkg")
    assert dist_info is not None
    (dist_info / "variant.json").write_text('{"variants": [1, 2')
    profile = tmp_path / "ampere.toml"
    profile.write_text(AMPERE)
    result = verify(python, profile)
    assert result.returncode == 1
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("  ? gpupkg")]
    assert line.startswith("  ? gpupkg 1.0: cannot be verified: ")
    assert str(dist_info / "variant.json") in line
    assert "Traceback" not in result.stderr
