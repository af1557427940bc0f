"""fitwheel.build_flags and `fitwheel build-flags`: variant properties -> compiler flags."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fitwheel import runtime
from fitwheel.build_flags import (
    AARCH64_EXTENSION_MODIFIERS,
    X86_64_EXTENSION_OPTIONS,
    X86_64_LEVEL_MARCH,
    BuildFlags,
    build_flags,
)
from fitwheel.errors import InvalidProperty, UnknownBuildProperty
from fitwheel.runtime import cpu_details

# Fixed vectors: what a compiler must be given for each property set.
VECTORS = [
    ([], BuildFlags()),
    (["x86_64 :: level :: v1"], BuildFlags(c=("-march=x86-64",))),
    (["x86_64 :: level :: v2"], BuildFlags(c=("-march=x86-64-v2",))),
    (["x86_64::level::v3"], BuildFlags(c=("-march=x86-64-v3",))),
    (["x86_64 :: level :: v4"], BuildFlags(c=("-march=x86-64-v4",))),
    # several values of one feature: the build must run where any is supported -> the lowest
    (["x86_64 :: level :: v4", "x86_64 :: level :: v3"], BuildFlags(c=("-march=x86-64-v3",))),
    (
        ["x86_64 :: avx512_bf16 :: on", "x86_64 :: level :: v3"],
        BuildFlags(c=("-march=x86-64-v3", "-mavx512bf16")),
    ),
    (["x86_64 :: avx2 :: on", "x86_64 :: fma :: on"], BuildFlags(c=("-mavx2", "-mfma"))),
    (["x86_64 :: sha_ni :: on"], BuildFlags(c=("-msha",))),
    (["x86_64 :: amx_tile :: on"], BuildFlags(c=("-mamx-tile",))),
    (["x86_64 :: cmov :: on"], BuildFlags()),
    (["aarch64 :: version :: 8a"], BuildFlags(c=("-march=armv8-a",))),
    (["aarch64 :: version :: 8.2a"], BuildFlags(c=("-march=armv8.2-a",))),
    (["aarch64 :: version :: 9.0a"], BuildFlags(c=("-march=armv9-a",))),
    (["aarch64 :: version :: 9.2a"], BuildFlags(c=("-march=armv9.2-a",))),
    (
        ["aarch64 :: version :: 8.6a", "aarch64 :: version :: 8.2a"],
        BuildFlags(c=("-march=armv8.2-a",)),
    ),
    (
        ["aarch64 :: version :: 8.2a", "aarch64 :: sve :: on"],
        BuildFlags(c=("-march=armv8.2-a+sve",)),
    ),
    (
        ["aarch64 :: sve2 :: on", "aarch64 :: bf16 :: on", "aarch64 :: i8mm :: on"],
        BuildFlags(c=("-march=armv8-a+bf16+i8mm+sve2",)),
    ),
    (
        ["nvidia :: sm_arch :: 86_real"],
        BuildFlags(cuda=("-gencode", "arch=compute_86,code=sm_86")),
    ),
    (
        [
            "nvidia :: sm_arch :: 86_real",
            "nvidia :: sm_arch :: 120_real",
            "nvidia :: sm_arch :: 80_virtual",
            "nvidia :: sm_arch :: 90a_real",
        ],
        BuildFlags(
            cuda=(
                "-gencode",
                "arch=compute_80,code=compute_80",
                "-gencode",
                "arch=compute_86,code=sm_86",
                "-gencode",
                "arch=compute_90a,code=sm_90a",
                "-gencode",
                "arch=compute_120,code=sm_120",
            )
        ),
    ),
    (
        ["nvidia :: cuda_version_lower_bound :: 12.0", "nvidia :: sm_arch :: 80_real"],
        BuildFlags(cuda=("-gencode", "arch=compute_80,code=sm_80")),
    ),
    (["amd :: gfx_arch :: gfx942"], BuildFlags(hip=("--offload-arch=gfx942",))),
    (["abi_dependency :: torch :: 2.9"], BuildFlags()),
]


@pytest.mark.parametrize(("properties", "expected"), VECTORS)
def test_flag_vectors(properties: list[str], expected: BuildFlags) -> None:
    assert build_flags(properties) == expected


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (["x86_64 :: level :: v5"], "cannot map 'x86_64 :: level :: v5' to compiler flags"),
        (["x86_64 :: avx2 :: off"], "an extension feature's only value is 'on'"),
        (["x86_64 :: hypervisor :: on"], "not a known x86-64 instruction-set extension"),
        (["aarch64 :: version :: 7a"], "expected an AArch64 version such as 8a"),
        (["aarch64 :: jscvt :: on"], "declare the aarch64 :: version that makes it mandatory"),
        (["nvidia :: sm_arch :: 86"], "expected an sm_arch such as 86_real"),
        (["amd :: gfx_arch :: navi"], "expected a gfx target such as gfx942"),
        (["intel :: device_ip :: 12.55.8"], "no compiler flags are known for this feature"),
        (
            ["x86_64 :: level :: v3", "aarch64 :: version :: 8a"],
            "one build targets one CPU architecture",
        ),
    ],
)
def test_unmappable_properties_are_named(properties: list[str], message: str) -> None:
    with pytest.raises(UnknownBuildProperty, match=re.escape(message)):
        build_flags(properties)


def test_every_detected_x86_64_feature_has_flags() -> None:
    # Whatever `fitwheel detect` can report for an x86-64 CPU, a build can be asked for.
    every_flag = cpu_details._X86_ISA_FLAGS | {"avx512_bf16", "avx512f", "amx_int8"}
    for feature, values in runtime.x86_64_properties(every_flag).items():
        build_flags([f"x86_64 :: {feature} :: {value}" for value in values])


# Options this test's GCC may be too old to know (GCC 13 and 14 additions).
NEWER_GCC_OPTIONS = {
    "-mavxifma",
    "-mavxneconvert",
    "-mavxvnniint8",
    "-mavxvnniint16",
    "-mcmpccxadd",
    "-mprefetchi",
    "-msha512",
    "-msm3",
    "-msm4",
}


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.skipif(
    not sys.platform.startswith("linux") or runtime.interpreter_machine() != "x86_64",
    reason="x86-64 GCC options are checked by an x86-64 GCC",
)
def test_x86_64_options_are_real_gcc_options(tmp_path: Path) -> None:
    listing = subprocess.run(
        ["gcc", "--help=target"], capture_output=True, text=True, check=True
    ).stdout
    known = set(re.findall(r"^\s+(-m[\w.-]+)", listing, flags=re.MULTILINE))
    options = {o for opts in X86_64_EXTENSION_OPTIONS.values() for o in opts}
    options |= {"-mavx512bf16", "-mavx512vpopcntdq", "-mamx-tile", "-mamx-bf16"}
    unknown = sorted(options - known - NEWER_GCC_OPTIONS)
    assert not unknown, f"not options of this gcc: {unknown}"
    # And the -march values compile.
    source = tmp_path / "t.c"
    source.write_text("int f(int x) { return x * 3; }\n")
    for march in X86_64_LEVEL_MARCH.values():
        subprocess.run(
            ["gcc", march, "-c", str(source), "-o", str(tmp_path / "t.o")],
            check=True,
            capture_output=True,
        )


def test_aarch64_modifiers_are_plain_names() -> None:
    for modifiers in AARCH64_EXTENSION_MODIFIERS.values():
        for modifier in modifiers:
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)?", modifier), modifier


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fitwheel", "build-flags", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_prints_one_line_of_flags() -> None:
    result = cli("x86_64 :: level :: v3", "x86_64 :: avx512_bf16 :: on")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "-march=x86-64-v3 -mavx512bf16\n",
        "",
    )


def test_cli_labels_lines_when_several_compilers_are_involved() -> None:
    result = cli("x86_64::level::v2", "nvidia::sm_arch::86_real")
    assert result.returncode == 0
    assert result.stdout == "c: -march=x86-64-v2\ncuda: -gencode arch=compute_86,code=sm_86\n"
    result = cli("--compiler", "cuda", "x86_64::level::v2", "nvidia::sm_arch::86_real")
    assert result.stdout == "-gencode arch=compute_86,code=sm_86\n"


def test_cli_json() -> None:
    result = cli("--format", "json", "aarch64::version::8.2a", "aarch64 :: sve :: on")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "properties": ["aarch64 :: version :: 8.2a", "aarch64 :: sve :: on"],
        "flags": {"c": ["-march=armv8.2-a+sve"], "cuda": [], "hip": []},
    }


def test_cli_reports_an_unmappable_property_in_one_line() -> None:
    result = cli("x86_64 :: level :: v9")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "fitwheel: error: cannot map 'x86_64 :: level :: v9' to compiler flags: "
        "x86-64 levels are v1, v2, v3, v4\n"
    )


def test_malformed_property_is_the_format_layers_error() -> None:
    with pytest.raises(InvalidProperty):
        build_flags(["x86_64 :: level"])


def test_no_property_is_a_usage_error() -> None:
    from helpers.cli import fitwheel

    result = fitwheel("build-flags")
    assert result.returncode == 2 and result.stdout == ""
    assert "PROPERTY" in result.stderr
