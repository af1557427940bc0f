"""A variant's compiler flags in the forms build systems take: environment variables, CMake
arguments, PyTorch's architecture lists.

Pure: `BuildFlags` (from `fitwheel.build_flags`) in, strings out. One set of facts, so a CMake
project, a setuptools extension and a PyTorch extension built for one variant agree.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from fitwheel.build_flags import BuildFlags

_GENCODE_RE = re.compile(r"arch=compute_(?P<arch>\w+),code=(?P<kind>sm|compute)_(?P=arch)")
_OFFLOAD_RE = re.compile(r"--offload-arch=(?P<arch>\S+)")
_ARCH_DIGITS_RE = re.compile(r"(?P<digits>\d+)(?P<suffix>[a-z]*)")


@dataclass(frozen=True)
class CudaArch:
    """One `nvidia :: sm_arch` target: `86` real (SASS) and/or virtual (PTX)."""

    arch: str
    real: bool
    virtual: bool


def cuda_archs(flags: BuildFlags) -> tuple[CudaArch, ...]:
    """The CUDA targets of `flags.cuda` (its `-gencode` pairs), in build_flags' order."""
    found: dict[str, tuple[bool, bool]] = {}
    for option in flags.cuda:
        match = _GENCODE_RE.fullmatch(option)
        if match is None:
            continue
        real, virtual = found.get(match["arch"], (False, False))
        if match["kind"] == "sm":
            real = True
        else:
            virtual = True
        found[match["arch"]] = (real, virtual)
    return tuple(CudaArch(arch, real, virtual) for arch, (real, virtual) in found.items())


def hip_archs(flags: BuildFlags) -> tuple[str, ...]:
    return tuple(m["arch"] for o in flags.hip if (m := _OFFLOAD_RE.fullmatch(o)) is not None)


def cmake_cuda_architectures(flags: BuildFlags) -> str:
    """`CMAKE_CUDA_ARCHITECTURES`: `86-real;80-virtual` (`86` when both)."""
    items = []
    for target in cuda_archs(flags):
        if target.real and target.virtual:
            items.append(target.arch)
        else:
            items.append(f"{target.arch}-{'real' if target.real else 'virtual'}")
    return ";".join(items)


def torch_cuda_arch_list(flags: BuildFlags) -> str:
    """`TORCH_CUDA_ARCH_LIST`: `8.6;8.0+PTX`. PyTorch cannot ask for PTX alone: a virtual
    target becomes `X.Y+PTX`, which also holds the real code for X.Y."""
    items = []
    for target in cuda_archs(flags):
        match = _ARCH_DIGITS_RE.fullmatch(target.arch)
        if match is None:
            continue
        digits = match["digits"]
        version = f"{digits[:-1]}.{digits[-1]}{match['suffix']}"
        items.append(version + ("+PTX" if target.virtual else ""))
    return ";".join(items)


def cmake_arguments(flags: BuildFlags, *, cflags: str = "", cxxflags: str = "") -> tuple[str, ...]:
    """`-D` arguments for CMake (what `CMAKE_ARGS` carries to scikit-build-core and others).

    `cflags`/`cxxflags` are the whole values to use (the variant's flags after any the caller
    already had); CMake reads `CFLAGS` only on the first configure, a `-D` always.
    """
    c = cflags or " ".join(flags.c)
    cxx = cxxflags or " ".join(flags.c)
    arguments = []
    if c:
        arguments.append(f"-DCMAKE_C_FLAGS={c}")
    if cxx:
        arguments.append(f"-DCMAKE_CXX_FLAGS={cxx}")
    if flags.cuda:
        arguments.append(f"-DCMAKE_CUDA_ARCHITECTURES={cmake_cuda_architectures(flags)}")
    hip = hip_archs(flags)
    if hip:
        arguments.append(f"-DCMAKE_HIP_ARCHITECTURES={';'.join(hip)}")
        arguments.append(f"-DAMDGPU_TARGETS={';'.join(hip)}")
    return tuple(arguments)


def torch_environment(flags: BuildFlags) -> dict[str, str]:
    """The variables `torch.utils.cpp_extension` reads for its GPU targets."""
    env = {}
    if flags.cuda:
        env["TORCH_CUDA_ARCH_LIST"] = torch_cuda_arch_list(flags)
    hip = hip_archs(flags)
    if hip:
        env["PYTORCH_ROCM_ARCH"] = ";".join(hip)
    return env


def _joined(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def build_environment(flags: BuildFlags, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a build for `flags` needs, each appended to its value in `base` (the
    caller's environment, so a user's own CFLAGS stay in force).

    `CFLAGS`/`CXXFLAGS` (GCC/Clang, read by setuptools, Meson, CMake, autotools), `CUDAFLAGS`
    (nvcc, read by CMake), `HIPFLAGS`, `CMAKE_ARGS` (scikit-build-core, py-build-cmake, ...),
    `TORCH_CUDA_ARCH_LIST`/`PYTORCH_ROCM_ARCH` (PyTorch extensions). Only variables with
    something to say are returned.
    """
    base = base or {}
    env: dict[str, str] = {}
    c = " ".join(flags.c)
    if c:
        env["CFLAGS"] = _joined(base.get("CFLAGS", ""), c)
        env["CXXFLAGS"] = _joined(base.get("CXXFLAGS", ""), c)
    if flags.cuda:
        env["CUDAFLAGS"] = _joined(base.get("CUDAFLAGS", ""), shlex.join(flags.cuda))
    if flags.hip:
        env["HIPFLAGS"] = _joined(base.get("HIPFLAGS", ""), shlex.join(flags.hip))
    cmake = cmake_arguments(flags, cflags=env.get("CFLAGS", ""), cxxflags=env.get("CXXFLAGS", ""))
    if cmake:
        env["CMAKE_ARGS"] = _joined(base.get("CMAKE_ARGS", ""), shlex.join(cmake))
    env.update(torch_environment(flags))
    return env


def shell_assignments(env: Mapping[str, str]) -> str:
    """`KEY='value'` lines a POSIX shell can `eval` (with `set -a` to export them)."""
    return "".join(f"{key}={shlex.quote(value)}\n" for key, value in env.items())
