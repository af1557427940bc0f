"""The publishing examples end to end: `fitwheel build --all` from a fresh copy (real gcc,
setuptools, CMake + scikit-build-core), `fitwheel variants check`, a static index served by
nginx, and `fitwheel pip install` (stock pip behind the proxy) for three x86-64 levels, each
installing the build compiled for it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fitwheel import runtime
from fitwheel.publish.table import load_variant_table
from helpers.nginx import requires_nginx, start_nginx
from helpers.serve_fixtures import clean_env
from helpers.venvs import fresh_venv, installed_label

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
MACHINE_LEVEL = runtime.x86_64_level(runtime.read_cpu_flags())

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    requires_nginx,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="the examples are compiled with gcc"),
    pytest.mark.skipif(
        runtime.interpreter_machine() != "x86_64", reason="the examples' variants are x86-64 levels"
    ),
]

# FITWHEEL_X86_64_LEVEL -> the label a machine of that level must get, and what level() says.
PROFILES = {"1": ("null", "v1"), "2": ("x86_64_v2", "v2"), "3": ("x86_64_v3", "v3")}


@dataclass(frozen=True)
class Published:
    project: str
    dist: Path
    url: str
    root: Path


def build_all(example: str, root: Path) -> Path:
    """Build every variant of a fresh copy of the example, as the publishing recipe does."""
    source = root / "source"
    shutil.copytree(EXAMPLES / example, source)
    dist = root / "dist"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fitwheel",
            "build",
            str(source),
            "--all",
            "--no-isolation",
            "--jobs",
            "2",
            "-o",
            str(dist),
        ],
        env=clean_env(root),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stderr  # each variant really was compiled differently
    return dist


@pytest.fixture(scope="module", params=["variant-setuptools", "variant-cmake"])
def published(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Published]:
    example: str = request.param
    if example == "variant-cmake" and shutil.which("cmake") is None:
        pytest.skip("the CMake example needs cmake")
    root = tmp_path_factory.mktemp(example)
    dist = build_all(example, root)
    www = root / "www"
    index = subprocess.run(
        [sys.executable, "-m", "fitwheel", "index", "build", str(dist), str(www)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert index.returncode == 0, index.stderr
    project = tomllib.loads((EXAMPLES / example / "pyproject.toml").read_text())["project"]["name"]
    with start_nginx(www, root) as nginx:
        yield Published(project, dist, nginx.url, root)


def test_every_declared_variant_is_built_and_checks_clean(published: Published) -> None:
    example = "variant-setuptools" if published.project == "leveldemo" else "variant-cmake"
    labels = load_variant_table(EXAMPLES / example).labels
    built = sorted(
        p.name.rsplit("-", 1)[1].removesuffix(".whl") for p in published.dist.glob("*.whl")
    )
    assert built == sorted(labels)
    assert (published.dist / f"{published.project}-1.0.0-variants.json").is_file()
    check = subprocess.run(
        [sys.executable, "-m", "fitwheel", "variants", "check", str(published.dist)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    assert check.stdout.strip().endswith("0 error(s), 0 warning(s)")


@pytest.mark.parametrize("level", sorted(PROFILES))
def test_pip_installs_the_build_for_the_cpu_level(
    published: Published, tmp_path: Path, level: str
) -> None:
    label, compiled_for = PROFILES[level]
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, {"FITWHEEL_X86_64_LEVEL": level})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fitwheel",
            "pip",
            "--python",
            str(python),
            "install",
            "-i",
            published.url,
            published.project,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_label(python, published.project) == label
    if int(level) > MACHINE_LEVEL:
        pytest.skip(f"this CPU is x86-64-v{MACHINE_LEVEL}: the v{level} build cannot run here")
    shown = subprocess.run(
        [str(python), "-c", f"import {published.project} as m; print(m.level())"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == compiled_for
