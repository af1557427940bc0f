"""Differential test: real uv 0.13.9 and fitwheel choose the same build, machine by machine.

Releases are built with fitwheel's own writers (`wheel make-variant`, `variants generate`) from a
real plain wheel. Each simulated machine installs every release with one
`uv pip install --preview-features wheel-variants --find-links` into a fresh target, with uv's
override variables for the GPU and, for CPU levels, an edited copy of `/proc/cpuinfo` bind-mounted
in a private mount namespace (uv has no override for the x86-64 level; this needs root and
`unshare`, and those machines are skipped without them). fitwheel's answer for the same machine is
`python -m fitwheel rank` with a profile built from the same facts by fitwheel's providers.

Where the tools differ on purpose, `EXPECTED_DIFFERENCES` names the case and the reason
(docs/uv-interop.md, section 6, explains why fitwheel's answer is the right one).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

VERSION = "1.0"
PLAIN = "plain"
"""What a tool installs when it takes the wheel without a label."""

# package -> (namespace priorities, {label: properties}, has a plain wheel)
RELEASES: dict[str, tuple[list[str] | None, dict[str, list[str]], bool]] = {
    "cuda_bounds": (
        None,
        {
            "cu118": ["nvidia :: cuda_version_lower_bound :: 11.8"]
            + [f"nvidia :: sm_arch :: {a}_real" for a in (60, 70, 75, 80, 86)],
            "cu126": ["nvidia :: cuda_version_lower_bound :: 12.6"]
            + [f"nvidia :: sm_arch :: {a}_real" for a in (75, 80, 86, 89, 90)],
            "cu128": ["nvidia :: cuda_version_lower_bound :: 12.8"]
            + [f"nvidia :: sm_arch :: {a}_real" for a in (75, 80, 86, 89, 90, 100, 120)],
            "null": [],
        },
        False,
    ),
    # PyTorch 2.10's shape: the same lower bound, different SM lists, a null and a plain wheel.
    "cuda_torch": (
        None,
        {
            "cu126": ["nvidia :: cuda_version_lower_bound :: 12.0"]
            + [f"nvidia :: sm_arch :: {a}_real" for a in (50, 60, 70, 75, 80, 86, 90)],
            "cu128": ["nvidia :: cuda_version_lower_bound :: 12.0"]
            + [f"nvidia :: sm_arch :: {a}_real" for a in (70, 75, 80, 86, 90, 100, 120)],
            "cu130": ["nvidia :: cuda_version_lower_bound :: 13.0"]
            + [f"nvidia :: sm_arch :: {a}_real" for a in (75, 80, 86, 90, 100, 120)],
            "null": [],
        },
        True,
    ),
    "cuda_ptx": (
        None,
        {
            "ptx70": [
                "nvidia :: cuda_version_lower_bound :: 12.0",
                "nvidia :: sm_arch :: 70_virtual",
            ],
            "sass90": [
                "nvidia :: cuda_version_lower_bound :: 12.0",
                "nvidia :: sm_arch :: 90_real",
            ],
            "null": [],
        },
        False,
    ),
    "only_null": (None, {"null": []}, True),
    "only_plain": (None, {}, True),
    "cpu_levels": (
        None,
        {
            "v2": ["x86_64 :: level :: v2"],
            "v3": ["x86_64 :: level :: v3"],
            "v4": ["x86_64 :: level :: v4"],
            "null": [],
        },
        False,
    ),
    "cpu_no_v4": (
        None,
        {"v2": ["x86_64 :: level :: v2"], "v3": ["x86_64 :: level :: v3"], "null": []},
        True,
    ),
    "gpu_and_cpu": (
        ["nvidia", "x86_64"],
        {
            "cu128v3": ["nvidia :: cuda_version_lower_bound :: 12.8", "x86_64 :: level :: v3"],
            "cu126": ["nvidia :: cuda_version_lower_bound :: 12.6"],
            "v3": ["x86_64 :: level :: v3"],
            "null": [],
        },
        False,
    ),
}

_V4 = "avx512f avx512bw avx512cd avx512dq avx512vl"
_V3 = "avx avx2 bmi1 bmi2 f16c fma abm movbe xsave"
_V2 = "cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3"


@dataclass(frozen=True)
class Machine:
    """A simulated machine: CUDA driver and compute capability ("" = none), CPU flags removed."""

    driver: str = ""
    sm: str = ""
    removed_flags: str = ""

    @property
    def uv_env(self) -> dict[str, str]:
        return {
            "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": self.driver,
            "NV_VARIANT_PROVIDER_FORCE_SM_ARCH": self.sm,
        }


MACHINES: dict[str, Machine] = {
    "cuda11.8-sm7.5": Machine("11.8", "7.5"),
    "cuda12.4-sm8.6": Machine("12.4", "8.6"),
    "cuda12.8-sm8.6": Machine("12.8", "8.6"),
    "cuda12.8-sm6.1": Machine("12.8", "6.1"),
    "cuda12.8-sm7.0": Machine("12.8", "7.0"),
    "cuda12.6-sm8.9": Machine("12.6", "8.9"),
    "cuda12.8-sm12.0": Machine("12.8", "12.0"),
    "cuda13.0-sm12.0": Machine("13.0", "12.0"),
    "cuda13.0-sm9.0": Machine("13.0", "9.0"),
    "cuda12.8-sm3.5": Machine("12.8", "3.5"),
    "cuda12.8-nogpu": Machine("12.8", ""),
    "nodriver": Machine(),
    "cpu-v3": Machine(removed_flags=_V4),
    "cpu-v2": Machine(removed_flags=f"{_V4} {_V3}"),
    "cpu-v1": Machine(removed_flags=f"{_V4} {_V3} {_V2}"),
    "cpu-no-xsave": Machine(removed_flags="xsave"),
}

# (machine, package) -> (fitwheel's choice, uv's choice, why they differ)
_PTX = (
    "PTX: uv reports only the device major's X0_virtual arch; a 70_virtual (compute_70 PTX) "
    "build is JIT-compiled by the driver on any device of compute capability >= 7.0, which "
    "fitwheel's provider reports"
)
_XSAVE = (
    "x86-64-v3 requires XSAVE/OSXSAVE (the OS saving AVX state; Linux shows it as `xsave`); uv "
    "ignores the flag and reports v3/v4, fitwheel follows the psABI and reports v2, so AVX code "
    "is never chosen where the kernel has AVX state switched off"
)
EXPECTED_DIFFERENCES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("cuda12.8-sm8.6", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda12.4-sm8.6", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda12.6-sm8.9", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda13.0-sm12.0", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda12.8-sm12.0", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cpu-no-xsave", "cpu_levels"): ("v2", "v4", _XSAVE),
    ("cpu-no-xsave", "cpu_no_v4"): ("v2", "v3", _XSAVE),
    ("cpu-no-xsave", "gpu_and_cpu"): ("null", "v3", _XSAVE),
}


def _host_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def _can_fake_cpuinfo() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind /proc/cpuinfo /proc/cpuinfo"],
        capture_output=True,
    )
    return probe.returncode == 0


def _write_plain_wheel(directory: Path, name: str) -> Path:
    """A real, minimal pure-Python wheel."""
    dist_info = f"{name}-{VERSION}.dist-info"
    files = {
        f"{name}/__init__.py": b"",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {VERSION}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for member, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{member},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"{name}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            info = zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return path


def _fitwheel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fitwheel", *args], capture_output=True, text=True, check=False
    )


def _build_releases(root: Path) -> Path:
    """Every release of RELEASES in one find-links folder, made by fitwheel's writers."""
    links = root / "links"
    links.mkdir()
    plain_dir = root / "plain"
    plain_dir.mkdir()
    jobs = []
    for package, (priorities, variants, plain) in RELEASES.items():
        wheel = _write_plain_wheel(plain_dir, package)
        if plain:
            shutil.copy(wheel, links)
        namespaces = priorities or sorted(
            {p.split("::")[0].strip() for props in variants.values() for p in props}
        )
        for label, properties in variants.items():
            args = ["wheel", "make-variant", str(wheel), "-o", str(links)]
            if label == "null":
                args.append("--null")
            else:
                args += ["--label", label]
                for prop in properties:
                    args += ["-p", prop]
            # uv rejects a variant.json whose namespace list is empty, the null wheel's included.
            args += ["--namespace-priority", ",".join(namespaces or ["nvidia"])]
            jobs.append(args)
    with ThreadPoolExecutor(2) as pool:
        for result in pool.map(lambda a: _fitwheel(*a), jobs):
            assert result.returncode == 0, result.stderr
    generated = _fitwheel("variants", "generate", str(links))
    assert generated.returncode == 0, generated.stderr
    check = _fitwheel("variants", "check", str(links))
    assert check.returncode == 0, check.stdout + check.stderr
    return links


def _fake_cpuinfo(root: Path, machine_id: str, machine: Machine) -> Path | None:
    """A sysroot whose proc/cpuinfo lacks the machine's removed flags (None: the host's)."""
    if not machine.removed_flags:
        return None
    removed = set(machine.removed_flags.split())
    lines = []
    for line in Path("/proc/cpuinfo").read_text().splitlines(keepends=True):
        if line.startswith("flags"):
            key, _, value = line.partition(":")
            kept = " ".join(f for f in value.split() if f not in removed)
            line = f"{key}: {kept}\n"
        lines.append(line)
    sysroot = root / "sysroots" / machine_id
    (sysroot / "proc").mkdir(parents=True)
    (sysroot / "proc" / "cpuinfo").write_text("".join(lines))
    return sysroot


def _uv_choices(
    uv: str, links: Path, target: Path, machine: Machine, sysroot: Path | None
) -> dict[str, str | None]:
    command = [
        uv,
        "pip",
        "install",
        "--preview-features",
        "wheel-variants",
        "--no-index",
        "--find-links",
        str(links),
        "--target",
        str(target / "site"),
        "--python",
        sys.executable,
        "--cache-dir",
        str(target / "cache"),
        *RELEASES,
    ]
    if sysroot is not None:
        fake = sysroot / "proc" / "cpuinfo"
        command = [
            "unshare",
            "-m",
            "sh",
            "-c",
            f'mount --bind "{fake}" /proc/cpuinfo && exec "$@"',
            "sh",
            *command,
        ]
    env = {**os.environ, **machine.uv_env}
    env.pop("UV_INDEX_URL", None)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    choices: dict[str, str | None] = {}
    for package in RELEASES:
        dist_info = target / "site" / f"{package}-{VERSION}.dist-info"
        if not dist_info.is_dir():
            choices[package] = None
            continue
        variant = dist_info / "variant.json"
        if not variant.exists():
            choices[package] = PLAIN
            continue
        choices[package] = next(iter(json.loads(variant.read_text())["variants"]))
    return choices


def _fitwheel_profile(machine: Machine, sysroot: Path | None) -> dict[str, Any]:
    """fitwheel's view of the machine, through its providers (the same code `detect` uses)."""
    from fitwheel.runtime import cpu_variant_properties

    variants: dict[str, Any] = dict(cpu_variant_properties(str(sysroot or "/"), "x86_64", {}))
    try:
        from fitwheel.providers import nvidia
    except ImportError:
        pytest.skip("fitwheel's nvidia provider has not landed")
    facts: dict[str, Any] = {}
    if machine.driver:
        facts["cuda_driver_version"] = machine.driver
        if machine.sm:
            facts["compute_capabilities"] = [machine.sm]
    properties = nvidia.provide({"nvidia": facts}) if facts else {}
    if properties:
        variants["nvidia"] = properties
    return {"variants": variants}


def _fitwheel_choices(
    links: Path, root: Path, machine_id: str, profile: Mapping[str, Any]
) -> dict[str, str | None]:
    profile_path = root / f"profile-{machine_id}.json"
    profile_path.write_text(json.dumps(profile))
    choices: dict[str, str | None] = {}
    for package, (_, variants, plain) in RELEASES.items():
        if not variants:
            choices[package] = PLAIN if plain else None
            continue
        result = _fitwheel(
            "rank",
            str(links / f"{package}-{VERSION}-variants.json"),
            "--profile",
            str(profile_path),
            "--format",
            "json",
        )
        assert result.returncode in (0, 1), result.stderr
        ranked = json.loads(result.stdout)["ranked"]
        choices[package] = ranked[0] if ranked else (PLAIN if plain else None)
    return choices


def _matrix(tmp_path: Path) -> dict[str, tuple[dict[str, str | None], dict[str, str | None]]]:
    from uv import find_uv_bin

    # Looked up once: find_uv_bin reads sysconfig, which is not safe to initialise from threads.
    uv_bin = find_uv_bin()
    links = _build_releases(tmp_path)
    fake_ok = _can_fake_cpuinfo()
    machines = {k: m for k, m in MACHINES.items() if fake_ok or not m.removed_flags}
    if not {"avx512f", "avx2", "sse4_2"} <= _host_flags():
        # The machine list assumes an x86-64-v4 host (the CPU rows remove flags from it).
        machines = {k: m for k, m in machines.items() if not m.removed_flags}

    def one(item: tuple[str, Machine]) -> tuple[dict[str, str | None], dict[str, str | None]]:
        machine_id, machine = item
        sysroot = _fake_cpuinfo(tmp_path, machine_id, machine)
        target = tmp_path / "targets" / machine_id
        uv = _uv_choices(uv_bin, links, target, machine, sysroot)
        fw = _fitwheel_choices(links, tmp_path, machine_id, _fitwheel_profile(machine, sysroot))
        return fw, uv

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, machines.items()))
    return dict(zip(machines, results, strict=True))


@pytest.mark.skipif(sys.platform != "linux", reason="uv's x86-64 level comes from /proc/cpuinfo")
def test_uv_and_fitwheel_choose_the_same_build(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path)
    rows = []
    unexpected = []
    for machine_id, (fw, uv) in matrix.items():
        for package in RELEASES:
            expected = EXPECTED_DIFFERENCES.get((machine_id, package))
            rows.append(f"{machine_id:18} {package:12} fitwheel={fw[package]!s:8} uv={uv[package]}")
            if expected is not None and expected[2]:
                if (fw[package], uv[package]) != expected[:2]:
                    unexpected.append(f"{rows[-1]}  (expected difference {expected[:2]} changed)")
            elif fw[package] != uv[package]:
                unexpected.append(rows[-1])
    print("\n".join(rows))
    assert not unexpected, "fitwheel and uv disagree:\n" + "\n".join(unexpected)
