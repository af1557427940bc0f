"""What a wrapper reports after the installer: read from the environment, not assumed.

The environments are real: pip installs real variant wheels into fresh venvs; the choices
compared against are the proxy's records (`ChosenBuild`) for the machine asking.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fitwheel.installers.outcome import environment, hashes_pinned, outcome
from fitwheel.serve.proxy import ChosenBuild
from helpers.venvs import fresh_venv

CPU = ChosenBuild("torchlike", "2.10.0", "null", "null (no GPU) ranks first")
AMPERE = ChosenBuild("torchlike", "2.10.0", "cuda12.8", "cuda12.8 ranks first")


def _pip_install(python: Path, wheel: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        check=True, env={"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def ampere_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A venv into which the cuda12.8 build of torchlike was installed, and when."""
    from helpers.serve_fixtures import build_index

    root = tmp_path_factory.mktemp("outcome")
    out = build_index(root)
    python = fresh_venv(root / "venv")
    # Under its label-less name, as the proxy serves it (pip refuses variant filenames).
    wheel = root / "torchlike-2.10.0-py3-none-any.whl"
    shutil.copyfile(out / "torchlike" / "torchlike-2.10.0-py3-none-any-cuda12.8.whl", wheel)
    started = time.time()
    _pip_install(python, wheel)
    return python, started


@pytest.mark.slow
def test_the_installed_build_is_named_when_it_is_the_one_chosen(
    ampere_env: tuple[Path, float],
) -> None:
    python, started = ampere_env
    paths = environment("pip", ["--python", str(python), "install", "torchlike"], {})
    assert paths is not None
    report = outcome({"torchlike": {"2.10.0": AMPERE}}, (), paths, started)
    assert report.chosen == ("torchlike 2.10.0 -> cuda12.8 (cuda12.8 ranks first)",)
    assert report.mismatched == ()


@pytest.mark.slow
def test_another_machines_build_is_a_warning_not_silence(ampere_env: tuple[Path, float]) -> None:
    """The proxy chose the CPU build; the environment holds the cuda12.8 one (a cache or a
    lock gave it): the report says so, whatever file the proxy handed out."""
    python, started = ampere_env
    paths = environment("uv", ["pip", "install", "--python", str(python), "torchlike"], {})
    report = outcome({"torchlike": {"2.10.0": CPU}}, (CPU,), paths, started)
    assert report.chosen == ()
    (line,) = report.mismatched
    assert line.startswith(
        "torchlike 2.10.0 was installed as the cuda12.8 build, not null, which fits this "
        "machine (null (no GPU) ranks first)"
    ), line
    assert "`fitwheel verify`" in line


@pytest.mark.slow
def test_builds_installed_before_the_run_are_not_reported(ampere_env: tuple[Path, float]) -> None:
    python, _ = ampere_env
    paths = environment("pip", ["--python", str(python), "install", "torchlike"], {})
    later = time.time() + 60
    assert outcome({"torchlike": {"2.10.0": CPU}}, (), paths, later).mismatched == ()
    # Without the environment, the file the proxy handed out is what is named.
    report = outcome({"torchlike": {"2.10.0": CPU}}, (CPU,), None, later)
    assert report.chosen == (str(CPU),)


def test_environments_that_are_not_known_cheaply_are_none(tmp_path: Path) -> None:
    assert environment("pip", ["install", "--user", "x"], {}) is None
    assert environment("pip", ["install", "--prefix", "/opt/x", "x"], {}) is None
    assert environment("uv", ["pip", "install", "--system", "x"], {}) is None
    assert environment("uv", ["pip", "install", "-p", "3.12", "x"], {}) is None
    assert environment("pip", ["install", "-t", str(tmp_path), "x"], {}) == [tmp_path]
    assert environment("uv", ["pip", "install", "--target", str(tmp_path), "x"], {}) == [tmp_path]


def test_hashes_are_pinned_by_the_option_or_a_requirements_file(tmp_path: Path) -> None:
    hashed = tmp_path / "hashed.txt"
    hashed.write_text("x==1 --hash=sha256:" + "0" * 64 + "\n")
    plain = tmp_path / "plain.txt"
    plain.write_text("x==1\n")
    assert hashes_pinned(["install", "--require-hashes", "x"])
    assert hashes_pinned(["install", "-r", str(hashed)])
    assert hashes_pinned(["install", f"--requirement={hashed}"])
    assert not hashes_pinned(["install", "-r", str(plain)])
    assert not hashes_pinned(["install", "-r", str(tmp_path / "missing.txt")])


def test_versions_compare_as_releases_and_a_bad_variant_json_is_no_label(tmp_path: Path) -> None:
    """`1.0` and `1.0.0` are one release; a family member's local part is its label; a
    `variant.json` that cannot be read names no label (a warning, never a traceback)."""
    for folder, text in (
        ("Demo_Pkg-1.0.dist-info", '{"variants": {"cu128": {}}}'),
        ("torch-2.9.0+CU126.dist-info", None),
        ("broken-3.0.dist-info", "{not json"),
    ):
        (tmp_path / folder).mkdir()
        if text is not None:
            (tmp_path / folder / "variant.json").write_text(text)
    offered = {
        "demo-pkg": {"1.0.0": ChosenBuild("demo-pkg", "1.0.0", "cu128", "why")},
        "torch": {"2.9.0": ChosenBuild("torch", "2.9.0", "cu126", "why")},
        "broken": {"3.0": ChosenBuild("broken", "3.0", "x86_64_v3", "why")},
    }
    report = outcome(offered, (), [tmp_path], time.time())
    assert report.chosen == ("demo-pkg 1.0.0 -> cu128 (why)", "torch 2.9.0 -> cu126 (why)")
    (line,) = report.mismatched
    assert line.startswith("broken 3.0 was installed as a build without a label, not x86_64_v3")
