"""fitwheel.runtime: choosing a fat wheel's build at import time.

The candidates here are real modules written into a temporary package; the compiled
extensions of a real fat wheel are exercised in test_fat_wheel.py.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fitwheel.runtime
from conftest import MakePackage, build_of
from fitwheel.runtime import (
    FORCE_VARIABLE,
    Candidate,
    InvalidCandidate,
    NoLoadableCandidate,
    choose,
    detect_supported,
    explain,
    parse_property,
)

RUNTIME_DIR = Path(fitwheel.runtime.__file__).parent

X86_V3 = {"x86_64": {"level": ["v3", "v2", "v1"], "avx2": ["on"], "fma": ["on"]}}
X86_V2 = {"x86_64": {"level": ["v2", "v1"]}}

CANDIDATES = [
    Candidate("_v3", ["x86_64 :: level :: v3"]),
    Candidate("_v2", ["x86_64 :: level :: v2"]),
]


def test_parse_property_ignores_whitespace_around_separators() -> None:
    assert parse_property("x86_64::level::v3") == ("x86_64", "level", "v3")
    assert parse_property("  nvidia ::  sm_arch::86_real ") == ("nvidia", "sm_arch", "86_real")
    assert parse_property("aarch64 :: version :: 8.2a") == ("aarch64", "version", "8.2a")


@pytest.mark.parametrize(
    "text",
    ["x86_64 :: level", "X86_64 :: level :: v3", "a :: b :: c :: d", "a :: b.c :: d", "a ::  :: d"],
)
def test_parse_property_rejects_malformed_text(text: str) -> None:
    with pytest.raises(InvalidCandidate, match="invalid variant property"):
        parse_property(text)


NAMES = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
VALUES = st.text("abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=1, max_size=12)
SPACE = st.sampled_from(["", " ", "  ", "\t"])


@given(NAMES, NAMES, VALUES, SPACE, SPACE)
def test_parse_property_reads_any_valid_triple(
    namespace: str, feature: str, value: str, before: str, after: str
) -> None:
    text = f"{before}{namespace}{after}::{before}{feature}{after}::{before}{value}{after}"
    assert parse_property(text) == (namespace, feature, value)


def test_choose_loads_the_first_supported_candidate(make_package: MakePackage) -> None:
    package = make_package(["_v3", "_v2", "_base"])
    assert build_of(choose(package, CANDIDATES, "_base", supported=X86_V3, environ={})) == "_v3"
    assert build_of(choose(package, CANDIDATES, "_base", supported=X86_V2, environ={})) == "_v2"
    assert build_of(choose(package, CANDIDATES, "_base", supported={}, environ={})) == "_base"


def test_features_are_anded_and_values_ored(make_package: MakePackage) -> None:
    package = make_package(["_bf16", "_base"])
    candidate = Candidate(
        "_bf16",
        ["x86_64 :: level :: v4", "x86_64 :: level :: v3", "x86_64 :: avx512_bf16 :: on"],
    )
    with_bf16 = {"x86_64": {"level": ["v3", "v2", "v1"], "avx512_bf16": ["on"]}}
    module = choose(package, [candidate], "_base", supported=with_bf16, environ={})
    assert build_of(module) == "_bf16"
    module = choose(package, [candidate], "_base", supported=X86_V3, environ={})
    assert build_of(module) == "_base"
    assert explain(package).attempts[0].reason == (
        "needs x86_64 :: avx512_bf16 :: on (this machine: not detected)"
    )


def test_explain_records_every_candidate_and_the_facts(make_package: MakePackage) -> None:
    package = make_package(["_v3", "_v2", "_base"])
    choose(package, CANDIDATES, "_base", supported=X86_V2, environ={})
    choice = explain(package)
    assert choice.chosen == "_v2"
    assert [(a.candidate, a.outcome, a.reason) for a in choice.attempts] == [
        ("_v3", "unsupported", "needs x86_64 :: level :: v3 (this machine: v2, v1)"),
        ("_v2", "chosen", "supported: x86_64 :: level :: v2"),
        ("_base", "not tried", "_v2 was loaded"),
    ]
    assert choice.as_dict()["supported"] == {"x86_64": {"level": ["v2", "v1"]}}
    assert str(choice).splitlines()[0] == f"{package}: loaded _v2"
    assert "  detected x86_64 :: level :: v2, v1" in str(choice).splitlines()


def test_a_candidate_that_fails_to_import_falls_through(make_package: MakePackage) -> None:
    package = make_package(["_v2", "_base"], broken=["_v3"])
    module = choose(package, CANDIDATES, "_base", supported=X86_V3, environ={})
    assert build_of(module) == "_v2"
    first = explain(package).attempts[0]
    assert (first.candidate, first.outcome) == ("_v3", "failed")
    assert first.reason == "import failed: ImportError: illegal instruction set"


def test_a_missing_candidate_module_falls_through(make_package: MakePackage) -> None:
    package = make_package(["_base"])
    module = choose(package, CANDIDATES, "_base", supported=X86_V3, environ={})
    assert build_of(module) == "_base"
    reasons = [a.reason for a in explain(package).attempts]
    assert reasons[0] == f"import failed: ModuleNotFoundError: No module named '{package}._v3'"


def test_nothing_loadable_raises_import_error_listing_every_candidate(
    make_package: MakePackage,
) -> None:
    package = make_package([], broken=["_v3", "_base"])
    with pytest.raises(ImportError) as info:
        choose(package, CANDIDATES, "_base", supported=X86_V2, environ={})
    assert isinstance(info.value, NoLoadableCandidate)
    assert info.value.name == package
    message = str(info.value)
    assert message.startswith(f"no build of {package} could be loaded on this machine:")
    assert "_v3: unsupported: needs x86_64 :: level :: v3 (this machine: v2, v1)" in message
    assert f"_v2: failed: import failed: ModuleNotFoundError: No module named '{package}._v2'" in (
        message
    )
    assert "_base: failed: import failed: ImportError: illegal instruction set" in message
    assert explain(package).chosen is None


def test_force_variable_loads_the_named_candidate_regardless_of_detection(
    make_package: MakePackage,
) -> None:
    package = make_package(["_v3", "_v2", "_base"])
    module = choose(package, CANDIDATES, "_base", supported={}, environ={FORCE_VARIABLE: "_v3"})
    assert build_of(module) == "_v3"
    choice = explain(package)
    assert choice.force == "_v3"
    assert choice.attempts[0].as_dict() == {
        "candidate": "_v3",
        "outcome": "chosen",
        "reason": f"forced by {FORCE_VARIABLE}",
    }


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("baseline", "_base"),
        ("_base", "_base"),
        ("{pkg}=_v2", "_v2"),
        ("{pkg}=baseline", "_base"),
        ("otherpkg=_base, _v2", "_v2"),
        ("_v2,{pkg}=_base", "_base"),
        ("_v9", "_v3"),  # names no candidate of this package: detection decides
        ("otherpkg=_base", "_v3"),
        ("", "_v3"),
    ],
)
def test_force_variable_forms(make_package: MakePackage, setting: str, expected: str) -> None:
    package = make_package(["_v3", "_v2", "_base"])
    environ = {FORCE_VARIABLE: setting.format(pkg=package)}
    module = choose(package, CANDIDATES, "_base", supported=X86_V3, environ=environ)
    assert build_of(module) == expected


def test_forcing_an_unknown_candidate_of_this_package_is_recorded(
    make_package: MakePackage,
) -> None:
    package = make_package(["_v3", "_v2", "_base"])
    environ = {FORCE_VARIABLE: f"{package}=_v9"}
    module = choose(package, CANDIDATES, "_base", supported=X86_V2, environ=environ)
    assert build_of(module) == "_v2"
    first = explain(package).attempts[0]
    assert (first.candidate, first.outcome) == ("_v9", "not tried")
    assert first.reason == f"{FORCE_VARIABLE} names no candidate of {package}"


def test_a_forced_candidate_that_fails_falls_back_to_detection(make_package: MakePackage) -> None:
    package = make_package(["_v2", "_base"], broken=["_v3"])
    module = choose(package, CANDIDATES, "_base", supported=X86_V2, environ={FORCE_VARIABLE: "_v3"})
    assert build_of(module) == "_v2"
    attempts = [(a.candidate, a.outcome) for a in explain(package).attempts]
    assert attempts == [("_v3", "failed"), ("_v2", "chosen"), ("_base", "not tried")]
    assert explain(package).attempts[0].reason.startswith("forced, but import failed: ImportError")


def test_detection_failure_falls_back_to_the_baseline(make_package: MakePackage) -> None:
    package = make_package(["_v3", "_v2", "_base"])
    # A malformed override makes the real detection raise; the import must still succeed.
    environ = {"FITWHEEL_X86_64_LEVEL": "v7"}
    module = choose(package, CANDIDATES, "_base", environ=environ)
    assert build_of(module) == "_base"
    reason = explain(package).attempts[0].reason
    assert reason.startswith("needs x86_64 :: level :: v3 (this machine: not detected)")
    assert "(detection failed: ValueError: invalid x86-64 level 'v7'" in reason


def test_duplicate_candidates_are_a_declaration_error() -> None:
    with pytest.raises(InvalidCandidate, match="not unique"):
        choose("anything", [Candidate("_base")], "_base", supported={}, environ={})


@pytest.mark.parametrize("module", ["", "1abc", "a-b", "..x"])
def test_candidate_module_names_are_checked(module: str) -> None:
    with pytest.raises(InvalidCandidate, match="invalid candidate module"):
        Candidate(module)


def test_explain_of_a_package_that_did_not_use_the_runtime() -> None:
    with pytest.raises(LookupError, match="did not choose its extension"):
        explain("json")


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("driver_file", ["proc/driver/nvidia/version", "sys/module/nvidia/version"])
def test_nvidia_driver_presence_from_its_kernel_files(tmp_path: Path, driver_file: str) -> None:
    write_tree(tmp_path, {driver_file: "NVRM version: NVIDIA UNIX x86_64 Kernel Module 550.54\n"})
    assert detect_supported({"nvidia"}, sysroot=str(tmp_path)) == {
        "nvidia": {"driver": ["present"]}
    }


def test_no_nvidia_fact_without_the_kernel_driver(tmp_path: Path) -> None:
    write_tree(tmp_path, {"proc/driver/other": ""})
    assert detect_supported({"nvidia"}, sysroot=str(tmp_path)) == {}


def test_detect_supported_uses_the_shared_cpu_module(tmp_path: Path) -> None:
    write_tree(tmp_path, {"proc/cpuinfo": "processor\t: 0\nflags\t\t: sse sse2 avx512_bf16\n\n"})
    assert detect_supported({"x86_64"}, sysroot=str(tmp_path), machine="x86_64", environ={}) == {
        "x86_64": {"level": ["v1"], "avx512_bf16": ["on"], "sse": ["on"], "sse2": ["on"]}
    }


def run_python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(cwd)!r})\n{code}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
        check=False,
    )


def test_runtime_imports_only_the_standard_library(tmp_path: Path) -> None:
    # Vendored under another name, outside fitwheel, with only the stdlib (no site-packages).
    shutil.copytree(RUNTIME_DIR, tmp_path / "vendored_rt", ignore=shutil.ignore_patterns("*.pyc"))
    code = (
        "import sys; before = set(sys.modules)\n"
        "import vendored_rt as rt\n"
        "rt.detect_supported(features=[('x86_64', 'level'), ('aarch64', 'version')])\n"
        "print(sorted(set(sys.modules) - before))\n"
        "rt.detect_supported()\n"
        "new = sorted(set(sys.modules) - before)\n"
        "print(new)\n"
        "bad = [m for m in new if m.split('.')[0] not in sys.stdlib_module_names "
        "and m.split('.')[0] != 'vendored_rt']\n"
        "assert not bad, bad\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    level_only, everything = map(ast.literal_eval, result.stdout.splitlines())
    # What every fat import runs is the package's one module; every ISA extension as a feature
    # (a candidate asking for one) loads `cpu_details` too, and nothing else of the copy.
    assert [name for name in level_only if name.startswith("vendored_rt")] == ["vendored_rt"]
    own = [name for name in everything if name.startswith("vendored_rt")]
    assert own == ["vendored_rt", "vendored_rt.cpu_details"]
