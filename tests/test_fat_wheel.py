"""The fat-wheel example, end to end: built with gcc and setuptools, installed into a fresh venv.

The wheel is built once per module (real C compiles, a real venv, real pip); each test then
imports the installed package in a new interpreter of that venv.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from fitwheel import runtime
from fitwheel.build_flags import build_flags
from fitwheel.runtime import FORCE_VARIABLE

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "fat-wheel"
RUNTIME_DIR = REPO / "src" / "fitwheel" / "runtime"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="the example is compiled with gcc"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the example targets Linux"),
]

SETUP = runpy.run_path(str(EXAMPLE / "setup.py"), run_name="fatdemo_setup")
BUILDS: dict[str, list[tuple[str, list[str], list[str]]]] = SETUP["BUILDS"]
BASELINE: str = SETUP["BASELINE"]


def expected_build(machine: str, flags: frozenset[str]) -> str:
    """The build this CPU should get, from the facts `fitwheel detect` also uses."""
    if machine == "x86_64":
        level = runtime.x86_64_level(flags)
        return {4: "_impl_x86_64_v3", 3: "_impl_x86_64_v3", 2: "_impl_x86_64_v2"}.get(
            level, BASELINE
        )
    if machine == "aarch64":
        versions = runtime.aarch64_versions(flags)
        if "8.2a" in versions and "sve" in flags:
            return "_impl_aarch64_sve"
        if "8.2a" in versions:
            return "_impl_aarch64_v8_2a"
    return BASELINE


MACHINE = runtime.interpreter_machine()
EXPECTED = expected_build(MACHINE, runtime.read_cpu_flags())
# The candidates in preference order on this machine, for the broken-candidate test.
ORDER = [module for module, _, _ in BUILDS.get(MACHINE, [])] + [BASELINE]


@dataclass(frozen=True)
class Installed:
    python: Path
    site_packages: Path
    wheel: Path


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FITWHEEL_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("fat-wheel")
    source = root / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), "."],
        cwd=source,
        env=clean_env(FITWHEEL_RUNTIME_DIR=str(RUNTIME_DIR)),
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("fatdemo-1.0.0-*.whl")
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "-q", str(wheel)],
        env=clean_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return Installed(python, Path(purelib), wheel)


SHOW = (
    "import json, fatdemo\n"
    "choice = fatdemo.__fitwheel_choice__\n"
    "print(json.dumps({'build': fatdemo.build(), 'isa': fatdemo.isa(),\n"
    "    'dot': fatdemo.dot(b'\\0' * 8 + bytes.fromhex('000000000000f03f') * 2,\n"
    "                       bytes.fromhex('0000000000000040') * 3),\n"
    "    'choice': choice.as_dict(), 'report': str(choice),\n"
    "    'modules': sorted(m for m in __import__('sys').modules if m.startswith('fitwheel'))}))\n"
)


def show(installed: Installed, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [str(installed.python), "-c", SHOW],
        env=clean_env(**env),
        cwd=installed.python.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_the_wheel_carries_every_build_and_the_vendored_runtime(installed: Installed) -> None:
    ext = sysconfig.get_config_var("EXT_SUFFIX")
    package = installed.site_packages / "fatdemo"
    for module in ORDER:
        assert (package / f"{module}{ext}").is_file(), module
    vendored = sorted(p.name for p in (package / "_fitwheel_runtime").glob("*.py"))
    assert vendored == sorted(p.name for p in RUNTIME_DIR.glob("*.py"))
    assert not (installed.site_packages / "fitwheel").exists()


def test_import_loads_the_build_for_this_cpu(installed: Installed) -> None:
    shown = show(installed)
    assert shown["build"] == EXPECTED
    assert shown["dot"] == 4.0
    assert shown["modules"] == []  # the vendored copy, not an installed fitwheel
    choice = shown["choice"]
    assert isinstance(choice, dict)
    assert choice["chosen"] == EXPECTED
    assert choice["force"] is None
    attempts = choice["attempts"]
    chosen = [a for a in attempts if a["outcome"] == "chosen"]
    assert [a["candidate"] for a in chosen] == [EXPECTED]
    # The builds compiled for higher targets really were compiled with their flags.
    isa = shown["isa"]
    assert isinstance(isa, list)
    if EXPECTED == "_impl_x86_64_v3":
        assert {"avx2", "fma"} <= set(isa)
    if EXPECTED == "_impl_x86_64_v2":
        assert "sse4_2" in isa and "avx2" not in isa


def test_force_variable_loads_the_baseline(installed: Installed) -> None:
    shown = show(installed, **{FORCE_VARIABLE: "_impl_baseline"})
    assert shown["build"] == BASELINE
    assert isinstance(shown["isa"], list)
    assert "avx2" not in shown["isa"]
    choice = shown["choice"]
    assert isinstance(choice, dict)
    assert choice["force"] == "_impl_baseline"
    assert choice["attempts"][0] == {
        "candidate": BASELINE,
        "outcome": "chosen",
        "reason": f"forced by {FORCE_VARIABLE}",
    }


def test_a_broken_build_falls_back_with_the_reason_recorded(
    installed: Installed, tmp_path: Path
) -> None:
    if EXPECTED == BASELINE:
        pytest.skip("this CPU gets the baseline: there is no higher build to break")
    # A copy of the installed package, first on the path, with this CPU's build overwritten.
    shutil.copytree(installed.site_packages / "fatdemo", tmp_path / "fatdemo")
    ext = sysconfig.get_config_var("EXT_SUFFIX")
    (tmp_path / "fatdemo" / f"{EXPECTED}{ext}").write_bytes(b"this is not a shared object\n")
    shown = show(installed, PYTHONPATH=str(tmp_path))
    fallback = ORDER[ORDER.index(EXPECTED) + 1]
    assert shown["build"] == fallback
    choice = shown["choice"]
    assert isinstance(choice, dict)
    broken = next(a for a in choice["attempts"] if a["candidate"] == EXPECTED)
    assert broken["outcome"] == "failed"
    assert broken["reason"].startswith("import failed: ImportError: ")
    assert f"{EXPECTED}{ext}" in broken["reason"]
    assert f"{EXPECTED}: failed: import failed: ImportError" in str(shown["report"])


def test_every_build_broken_is_an_import_error_naming_each(
    installed: Installed, tmp_path: Path
) -> None:
    shutil.copytree(installed.site_packages / "fatdemo", tmp_path / "fatdemo")
    ext = sysconfig.get_config_var("EXT_SUFFIX")
    for module in ORDER:
        (tmp_path / "fatdemo" / f"{module}{ext}").write_bytes(b"garbage")
    result = subprocess.run(
        [str(installed.python), "-c", "import fatdemo"],
        env=clean_env(PYTHONPATH=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "NoLoadableCandidate: no build of fatdemo could be loaded on this machine:" in (
        result.stderr
    )
    for module in ORDER:
        assert f"  {module}: failed: import failed: ImportError" in result.stderr


def test_report_command_of_the_vendored_runtime(installed: Installed) -> None:
    result = subprocess.run(
        [str(installed.python), "-m", "fatdemo._fitwheel_runtime", "fatdemo"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"fatdemo: loaded {EXPECTED}"


def test_setup_flags_are_what_build_flags_prints() -> None:
    for builds in BUILDS.values():
        for module, properties, flags in builds:
            assert list(build_flags(properties).c) == flags, module


def test_init_declares_the_builds_of_setup(installed: Installed) -> None:
    result = subprocess.run(
        [
            str(installed.python),
            "-c",
            "import json, fatdemo; "
            "print(json.dumps([[c.module, list(c.properties)] for c in fatdemo.CANDIDATES]))",
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    declared = json.loads(result.stdout)
    built = [[module, properties] for builds in BUILDS.values() for module, properties, _ in builds]
    assert declared == built
