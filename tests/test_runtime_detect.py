"""fitwheel.runtime against `fitwheel detect`: the same CPU facts, and dispatch on the detect trees.

The trees are the fake /proc (and /sys) folders of the detect tests, tests/detect_sysroots/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MakePackage, build_of
from fitwheel.runtime import (
    Candidate,
    choose,
    cpu_variant_properties,
    detect_supported,
    explain,
    interpreter_machine,
)

SYSROOTS = Path(__file__).parent / "detect_sysroots"
TREES = sorted(p.name for p in SYSROOTS.iterdir() if p.is_dir())
CPU_NAMESPACES = ("x86_64", "aarch64")


def detect_variants(sysroot: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FITWHEEL_")}
    sysroot_arg = f"--sysroot={sysroot}"
    result = subprocess.run(
        [sys.executable, "-m", "fitwheel", "detect", "--format=json", "--no-cache", sysroot_arg],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    variants: dict[str, object] = json.loads(result.stdout)["variants"]
    return variants


def cpu_part(supported: dict[str, object]) -> dict[str, object]:
    return {ns: features for ns, features in supported.items() if ns in CPU_NAMESPACES}


@pytest.mark.parametrize(
    "sysroot",
    [
        "/",
        # Trees of the other CPU family included: both must then offer no CPU namespace.
        *(pytest.param(str(SYSROOTS / name), id=name) for name in TREES),
    ],
)
def test_runtime_cpu_facts_agree_with_detect(sysroot: str) -> None:
    runtime = detect_supported(CPU_NAMESPACES, sysroot=sysroot, environ={})
    assert cpu_part(dict(runtime)) == cpu_part(detect_variants(sysroot))


FAT = [
    Candidate("_x86_v4", ["x86_64 :: level :: v4"]),
    Candidate("_x86_v3", ["x86_64 :: level :: v3"]),
    Candidate("_x86_v2", ["x86_64 :: level :: v2"]),
    Candidate("_a64_sve2", ["aarch64 :: version :: 9.0a", "aarch64 :: sve2 :: on"]),
    Candidate("_a64_sve", ["aarch64 :: version :: 8.2a", "aarch64 :: sve :: on"]),
    Candidate("_a64_v8_2", ["aarch64 :: version :: 8.2a"]),
    Candidate("_cuda", ["nvidia :: driver :: present", "x86_64 :: level :: v3"]),
]
ORDER = [c.module for c in FAT] + ["_base"]


@pytest.fixture
def fat_package(make_package: MakePackage) -> str:
    return make_package(ORDER)


@pytest.mark.parametrize(
    ("tree", "machine", "expected"),
    [
        ("x86-v1-qemu64", "x86_64", "_base"),
        ("x86-v2-nehalem", "x86_64", "_x86_v2"),
        ("x86-v3-haswell", "x86_64", "_x86_v3"),
        ("x86-v4-skylake", "x86_64", "_x86_v4"),
        ("x86-v4-vm-masked", "x86_64", "_x86_v4"),
        ("aarch64-neoverse-n1", "aarch64", "_a64_v8_2"),
        ("aarch64-neoverse-v1", "aarch64", "_a64_sve"),
        ("aarch64-neoverse-v2", "aarch64", "_a64_sve2"),
        ("aarch64-apple-m1", "aarch64", "_a64_v8_2"),
    ],
)
def test_dispatch_on_the_detect_trees(
    fat_package: str, tree: str, machine: str, expected: str
) -> None:
    supported = detect_supported(sysroot=str(SYSROOTS / tree), machine=machine, environ={})
    module = choose(fat_package, FAT, "_base", supported=supported, environ={})
    assert build_of(module) == expected
    assert explain(fat_package).chosen == expected


def test_nvidia_driver_candidate_on_the_gpu_node(fat_package: str) -> None:
    # gpu-node is a v3 machine with the NVIDIA kernel driver loaded: the CUDA build is preferred
    # over a plain v3 build only when declared first.
    supported = detect_supported(sysroot=str(SYSROOTS / "gpu-node"), machine="x86_64", environ={})
    assert supported["nvidia"] == {"driver": ["present"]}
    cuda_first = [FAT[-1], *FAT[:-1]]
    assert build_of(choose(fat_package, cuda_first, "_base", supported=supported, environ={})) == (
        "_cuda"
    )
    no_driver = detect_supported(
        sysroot=str(SYSROOTS / "x86-v3-haswell"), machine="x86_64", environ={}
    )
    assert build_of(choose(fat_package, cuda_first, "_base", supported=no_driver, environ={})) == (
        "_x86_v3"
    )


def test_this_machine_matches_the_shared_cpu_facts() -> None:
    machine = interpreter_machine()
    assert cpu_part(dict(detect_supported(environ={}))) == cpu_variant_properties("/", machine, {})
