"""A variant's flags in each build system's form: fixed vectors, and the `build-flags` command."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from fitwheel.build_flags import build_flags
from fitwheel.publish.forms import (
    build_environment,
    cmake_arguments,
    cmake_cuda_architectures,
    torch_cuda_arch_list,
)
from helpers.cli import fitwheel

CUDA = [
    "nvidia :: sm_arch :: 86_real",
    "nvidia :: sm_arch :: 80_real",
    "nvidia :: sm_arch :: 80_virtual",
]


@pytest.mark.parametrize(
    ("properties", "cmake", "torch"),
    [
        (["nvidia :: sm_arch :: 86_real"], "86-real", "8.6"),
        (CUDA, "80;86-real", "8.0+PTX;8.6"),
        (
            ["nvidia :: sm_arch :: 90a_real", "nvidia :: sm_arch :: 120_virtual"],
            "90a-real;120-virtual",
            "9.0a;12.0+PTX",
        ),
    ],
)
def test_cuda_architectures(properties: list[str], cmake: str, torch: str) -> None:
    flags = build_flags(properties)
    assert cmake_cuda_architectures(flags) == cmake
    assert torch_cuda_arch_list(flags) == torch


def test_environment_appends_to_the_callers_flags() -> None:
    flags = build_flags(["x86_64 :: level :: v3", *CUDA, "amd :: gfx_arch :: gfx942"])
    env = build_environment(flags, {"CFLAGS": "-O2", "CMAKE_ARGS": "-DFOO=1"})
    assert env["CFLAGS"] == "-O2 -march=x86-64-v3"
    assert env["CXXFLAGS"] == "-march=x86-64-v3"
    assert shlex.split(env["CMAKE_ARGS"]) == [
        "-DFOO=1",
        "-DCMAKE_C_FLAGS=-O2 -march=x86-64-v3",
        "-DCMAKE_CXX_FLAGS=-march=x86-64-v3",
        "-DCMAKE_CUDA_ARCHITECTURES=80;86-real",
        "-DCMAKE_HIP_ARCHITECTURES=gfx942",
        "-DAMDGPU_TARGETS=gfx942",
    ]
    assert shlex.split(env["CUDAFLAGS"]) == list(flags.cuda)
    assert env["HIPFLAGS"] == "--offload-arch=gfx942"
    assert env["TORCH_CUDA_ARCH_LIST"] == "8.0+PTX;8.6"
    assert env["PYTORCH_ROCM_ARCH"] == "gfx942"


def test_no_flags_no_variables() -> None:
    assert build_environment(build_flags(["nvidia :: cuda_version_lower_bound :: 12.8"])) == {}
    assert cmake_arguments(build_flags([])) == ()


def test_build_flags_command_forms() -> None:
    cmake = fitwheel("build-flags", "--format", "cmake", "x86_64 :: level :: v2", *CUDA, check=True)
    assert shlex.split(cmake.stdout) == [
        "-DCMAKE_C_FLAGS=-march=x86-64-v2",
        "-DCMAKE_CXX_FLAGS=-march=x86-64-v2",
        "-DCMAKE_CUDA_ARCHITECTURES=80;86-real",
    ]
    torch = fitwheel("build-flags", "--format", "torch", *CUDA, check=True)
    assert torch.stdout == "TORCH_CUDA_ARCH_LIST='8.0+PTX;8.6'\n"
    env = fitwheel("build-flags", "--format", "env", "x86_64 :: level :: v3", check=True)
    # What a shell gets from it: the same values, quoting and all.
    shell = subprocess.run(
        [
            "sh",
            "-c",
            'set -a; eval "$1"; set +a; printf "%s|%s" "$CFLAGS" "$CMAKE_ARGS"',
            "sh",
            env.stdout,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    cflags, cmake_args = shell.stdout.split("|")
    assert cflags == "-march=x86-64-v3"
    assert shlex.split(cmake_args) == [
        "-DCMAKE_C_FLAGS=-march=x86-64-v3",
        "-DCMAKE_CXX_FLAGS=-march=x86-64-v3",
    ]
