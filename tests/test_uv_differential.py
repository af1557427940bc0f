"""Differential test: real uv 0.13.9 and `fitwheel explain` choose the same build, machine by machine.

Releases are built with fitwheel's own writers (`wheel make-variant`, `variants generate`) from
real plain wheels (`wheelmaker`), into one find-links folder. Each simulated machine is described
once and given to both tools the same way:

- the GPU through uv's override variables (`NV_VARIANT_PROVIDER_FORCE_*`), which fitwheel honours
  too (after its own `FITWHEEL_*` ones);
- the x86-64 level through an edited copy of `/proc/cpuinfo` bind-mounted in a private mount
  namespace (`unshare -m`, root only), in which both tools run (uv has no override for the level);
- a TPU through `TPU_VARIANT_PROVIDER_FORCE_PRESENT`, which fitwheel reads as uv does;
- an AArch64 CPU, which uv can only be given as `--python-platform aarch64-…` (it then assumes
  Armv8-A, whatever the CPU), through a fitwheel profile of the same CPU (`--profile`).

Per machine, uv installs every release with one
`uv pip install --preview-features wheel-variants --no-index --find-links` into a fresh target,
and the label is read from the installed `dist-info/variant.json`. fitwheel's answer is
`fitwheel explain PROJECT --index-url FIND_LINKS_FOLDER --format json`, run through the console
script's entry point (`fitwheel.cli.main`) once per project in one child process per machine:
the same code path as the command, one interpreter start per machine.

Where the tools differ on purpose, `EXPECTED_DIFFERENCES` names the case and the reason
(docs/uv-interop.md, section 7, explains why fitwheel's answer is the right one);
`KNOWN_GAPS` names what fitwheel does not do yet. Both are checked exactly, so a change on
either side fails the test until the table is updated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wheelmaker import make_wheel

pytestmark = pytest.mark.slow

VERSION = "1.0"
PLAIN = "plain"
"""What a tool installs when it takes the wheel without a label."""


@dataclass(frozen=True)
class Release:
    """One release: {label: properties}, a plain wheel beside them, namespace order, and the
    ordered static properties of namespaces that describe the build (`--static-property`)."""

    variants: dict[str, list[str]]
    plain: bool = False
    priorities: tuple[str, ...] = ()
    static: tuple[str, ...] = ()


def _sm(*archs: int) -> list[str]:
    return [f"nvidia :: sm_arch :: {a}_real" for a in archs]


RELEASES: dict[str, Release] = {
    "cuda_bounds": Release(
        {
            "cu118": ["nvidia :: cuda_version_lower_bound :: 11.8", *_sm(60, 70, 75, 80, 86)],
            "cu126": ["nvidia :: cuda_version_lower_bound :: 12.6", *_sm(75, 80, 86, 89, 90)],
            "cu128": [
                "nvidia :: cuda_version_lower_bound :: 12.8",
                *_sm(75, 80, 86, 89, 90, 100, 120),
            ],
            "null": [],
        }
    ),
    # PyTorch 2.10's shape: the same lower bound, different SM lists, a null and a plain wheel.
    "cuda_torch": Release(
        {
            "cu126": [
                "nvidia :: cuda_version_lower_bound :: 12.0",
                *_sm(50, 60, 70, 75, 80, 86, 90),
            ],
            "cu128": [
                "nvidia :: cuda_version_lower_bound :: 12.0",
                *_sm(70, 75, 80, 86, 90, 100, 120),
            ],
            "cu130": ["nvidia :: cuda_version_lower_bound :: 13.0", *_sm(75, 80, 86, 90, 100, 120)],
            "null": [],
        },
        plain=True,
    ),
    "cuda_ptx": Release(
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
        }
    ),
    "only_null": Release({"null": []}, plain=True),
    "only_plain": Release({}, plain=True),
    "cpu_levels": Release(
        {
            "v2": ["x86_64 :: level :: v2"],
            "v3": ["x86_64 :: level :: v3"],
            "v4": ["x86_64 :: level :: v4"],
            "null": [],
        }
    ),
    "cpu_no_v4": Release(
        {"v2": ["x86_64 :: level :: v2"], "v3": ["x86_64 :: level :: v3"], "null": []},
        plain=True,
    ),
    "gpu_and_cpu": Release(
        {
            "cu128v3": ["nvidia :: cuda_version_lower_bound :: 12.8", "x86_64 :: level :: v3"],
            "cu126": ["nvidia :: cuda_version_lower_bound :: 12.6"],
            "v3": ["x86_64 :: level :: v3"],
            "null": [],
        },
        priorities=("nvidia", "x86_64"),
    ),
    "arm_versions": Release(
        {
            "v8": ["aarch64 :: version :: 8a"],
            "v82": ["aarch64 :: version :: 8.2a"],
            "null": [],
        }
    ),
    "tpu_present": Release(
        {"tpu": ["tpu :: present :: true"], "notpu": ["tpu :: present :: false"], "null": []}
    ),
    # A namespace that describes the build: static-properties, no provider. The static order
    # (openblas first) must beat the label tie-break (mkl < openblas).
    "static_blas": Release(
        {"openblas": ["blas :: impl :: openblas"], "mkl": ["blas :: impl :: mkl"], "null": []},
        static=("blas :: impl :: openblas", "blas :: impl :: mkl"),
    ),
    "gpu_static": Release(
        {
            "cu128mkl": ["nvidia :: cuda_version_lower_bound :: 12.8", "blas :: impl :: mkl"],
            "openblas": ["blas :: impl :: openblas"],
            "null": [],
        },
        priorities=("nvidia", "blas"),
        static=("blas :: impl :: openblas", "blas :: impl :: mkl"),
    ),
}

_V4 = "avx512f avx512bw avx512cd avx512dq avx512vl"
_V3 = "avx avx2 bmi1 bmi2 f16c fma abm movbe xsave"
_V2 = "cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3"
UV_AARCH64_PLATFORM = "aarch64-manylinux_2_28"


@dataclass(frozen=True)
class Machine:
    """A simulated machine: CUDA driver and compute capability ("" = none), CPU flags removed
    from this host's, a forced TPU, or an AArch64 CPU (its version; "" = this x86-64 host)."""

    driver: str = ""
    sm: str = ""
    removed_flags: str = ""
    tpu: bool = False
    aarch64: str = ""

    @property
    def env(self) -> dict[str, str]:
        """The override variables, as uv reads them; fitwheel reads the NV_* ones too."""
        return {
            "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": self.driver,
            "NV_VARIANT_PROVIDER_FORCE_SM_ARCH": self.sm,
            "TPU_VARIANT_PROVIDER_FORCE_PRESENT": "1" if self.tpu else "",
        }

    @property
    def relies_on_no_host_gpu(self) -> bool:
        """uv reads an empty NV_* variable as "none"; fitwheel as "not set: probe this host"."""
        return not self.aarch64 and not (self.driver and self.sm)

    def fitwheel_profile(self) -> dict[str, Any] | None:
        """The profile describing an AArch64 machine to fitwheel (None: detect, with the env)."""
        if not self.aarch64:
            return None
        facts: dict[str, Any] = {
            "cpu": {"architecture": "aarch64", "aarch64_version": self.aarch64},
            "tpu": {"present": self.tpu},
        }
        if self.driver:
            # No device list without a GPU: like uv's empty SM variable, CUDA bounds only.
            facts["nvidia"] = {"cuda_driver_version": self.driver}
            if self.sm:
                facts["nvidia"]["compute_capabilities"] = [self.sm]
        return {"facts": facts}


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
    "tpu": Machine(tpu=True),
    "aarch64-8a": Machine(aarch64="8a"),
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
EXPECTED_DIFFERENCES: dict[tuple[str, str], tuple[str | None, str | None, str]] = {
    ("cuda12.8-sm8.6", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda12.4-sm8.6", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda12.6-sm8.9", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda13.0-sm12.0", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cuda12.8-sm12.0", "cuda_ptx"): ("ptx70", "null", _PTX),
    ("cpu-no-xsave", "cpu_levels"): ("v2", "v4", _XSAVE),
    ("cpu-no-xsave", "cpu_no_v4"): ("v2", "v3", _XSAVE),
    ("cpu-no-xsave", "gpu_and_cpu"): ("null", "v3", _XSAVE),
}

# (machine, package) -> (fitwheel's choice, uv's choice, what fitwheel lacks): none today.
KNOWN_GAPS: dict[tuple[str, str], tuple[str | None, str | None, str]] = {}

# Variables that describe a machine to either tool: the test sets them per machine.
_MACHINE_VARIABLES = (
    "FITWHEEL_PROFILE",
    "FITWHEEL_CUDA_DRIVER",
    "FITWHEEL_CUDA_ARCH",
    "FITWHEEL_X86_64_LEVEL",
    "FITWHEEL_AARCH64_VERSION",
    "FITWHEEL_AMD_GFX",
    "UV_INDEX_URL",
    "UV_PYTHON_PLATFORM",
)

# One child process per machine runs `fitwheel explain` for every project.
_EXPLAIN_EACH = """
import contextlib, io, json, sys
from fitwheel.cli import main
links, profile, *projects = sys.argv[1:]
answers = {}
for project in projects:
    out = io.StringIO()
    args = ["explain", project, "--index-url", links, "--format", "json"]
    with contextlib.redirect_stdout(out):
        code = main(args + (["--profile", profile] if profile else []))
    answers[project] = {"code": code, "output": out.getvalue()}
print(json.dumps(answers))
"""


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


def _fitwheel(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fitwheel", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def _base_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _MACHINE_VARIABLES}
    env["FITWHEEL_CACHE_DIR"] = str(cache)
    return env


def _host_has_nvidia(env: dict[str, str]) -> bool:
    """Whether fitwheel's probe finds an NVIDIA driver or GPU here when nothing is overridden."""
    result = _fitwheel("detect", "--format", "json", env={**env, **Machine().env})
    assert result.returncode == 0, result.stderr
    nvidia = json.loads(result.stdout).get("facts", {}).get("nvidia", {})
    return bool(nvidia.get("cuda_driver_version") or nvidia.get("compute_capabilities"))


def _build_releases(root: Path) -> Path:
    """Every release of RELEASES in one find-links folder, made by fitwheel's writers."""
    links = root / "links"
    links.mkdir()
    jobs = []
    for package, release in RELEASES.items():
        wheel = make_wheel(root / "plain", package, VERSION)
        if release.plain:
            shutil.copy(wheel, links)
        namespaces = release.priorities or sorted(
            {p.split("::")[0].strip() for props in release.variants.values() for p in props}
        )
        for label, properties in release.variants.items():
            args = ["wheel", "make-variant", str(wheel), "-o", str(links)]
            args += ["--null"] if label == "null" else ["--label", label]
            for prop in properties:
                args += ["-p", prop]
            for prop in release.static:
                args += ["--static-property", prop]
            # uv rejects a variant.json whose namespace list is empty, the null wheel's included.
            args += ["--namespace-priority", ",".join(namespaces or ["nvidia"])]
            jobs.append(args)
    with ThreadPoolExecutor(2) as pool:
        for result in pool.map(lambda a: _fitwheel(*a), jobs):
            assert result.returncode == 0, result.stderr
    generated = _fitwheel("variants", "generate", str(links))
    assert generated.returncode == 0, generated.stderr
    check = _fitwheel("variants", "check", str(links), "--format", "json")
    findings = json.loads(check.stdout)["findings"]
    # The only findings: tpu and aarch64 variants uv never reports on some machines are fine;
    # nothing may be an error, and the static namespaces draw no warning.
    assert check.returncode == 0, check.stdout + check.stderr
    assert not [f for f in findings if "blas" in f["message"]], findings
    return links


def _fake_cpuinfo(root: Path, machine_id: str, machine: Machine) -> Path | None:
    """A copy of /proc/cpuinfo without the machine's removed flags (None: the host's)."""
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
    fake = root / "cpuinfo" / machine_id
    fake.parent.mkdir(exist_ok=True)
    fake.write_text("".join(lines))
    return fake


def _in_machine(command: list[str], cpuinfo: Path | None) -> list[str]:
    """`command`, run where /proc/cpuinfo is `cpuinfo` (a private mount namespace)."""
    if cpuinfo is None:
        return command
    mount = f'mount --bind "{cpuinfo}" /proc/cpuinfo && exec "$@"'
    return ["unshare", "-m", "sh", "-c", mount, "sh", *command]


def _uv_choices(
    uv: str,
    links: Path,
    target: Path,
    machine: Machine,
    cpuinfo: Path | None,
    env: dict[str, str],
    packages: tuple[str, ...] = tuple(RELEASES),
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
        *(["--python-platform", UV_AARCH64_PLATFORM] if machine.aarch64 else []),
        *packages,
    ]
    _run_in_machine(command, machine, cpuinfo, env)
    choices: dict[str, str | None] = {}
    for package in packages:
        dist_info = target / "site" / f"{package}-{VERSION}.dist-info"
        if not dist_info.is_dir():
            choices[package] = None
        elif not (dist_info / "variant.json").exists():
            choices[package] = PLAIN
        else:
            document = json.loads((dist_info / "variant.json").read_text())
            choices[package] = next(iter(document["variants"]))
    return choices


def _run_in_machine(
    command: list[str], machine: Machine, cpuinfo: Path | None, env: dict[str, str]
) -> str:
    """Run `command` on the simulated machine (its variables, its cpuinfo); its stdout."""
    result = subprocess.run(
        _in_machine(command, cpuinfo),
        env={**env, **machine.env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _fitwheel_answers(
    links: Path, target: Path, machine: Machine, cpuinfo: Path | None, env: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """`fitwheel explain`'s JSON for every project, on this machine."""
    profile = ""
    description = machine.fitwheel_profile()
    if description is not None:
        profile_path = target / "profile.json"
        profile_path.write_text(json.dumps(description))
        profile = str(profile_path)
    command = [sys.executable, "-c", _EXPLAIN_EACH, str(links), profile, *RELEASES]
    output = _run_in_machine(command, machine, cpuinfo, env)
    answers: dict[str, dict[str, Any]] = {}
    for package, answer in json.loads(output).items():
        assert answer["code"] in (0, 1), (package, answer)
        answers[package] = json.loads(answer["output"])["releases"][0]
    return answers


def _label(answer: dict[str, Any]) -> str | None:
    """The label of the file explain chose (PLAIN for a wheel without one, None for nothing)."""
    chosen = answer["chosen"]
    if chosen is None:
        return None
    assert chosen["label"] is None or chosen["filename"].endswith(f"-{chosen['label']}.whl")
    return chosen["label"] or PLAIN


@dataclass(frozen=True)
class Cell:
    fitwheel: str | None
    uv: str | None
    explain: dict[str, Any]


def _matrix(tmp_path: Path) -> tuple[dict[str, dict[str, Cell]], dict[str, str]]:
    """{machine: {package: Cell}}, and the machines left out with the reason."""
    from uv import find_uv_bin

    # Looked up once: find_uv_bin reads sysconfig, which is not safe to initialise from threads.
    uv_bin = find_uv_bin()
    links = _build_releases(tmp_path)
    env = _base_env(tmp_path / "fitwheel-cache")
    left_out: dict[str, str] = {}
    fake_ok = _can_fake_cpuinfo()
    v4_host = {"avx512f", "avx2", "sse4_2", "xsave"} <= _host_flags()
    nvidia_host = _host_has_nvidia(env)
    for machine_id, machine in MACHINES.items():
        if machine.removed_flags and not fake_ok:
            left_out[machine_id] = "editing /proc/cpuinfo needs root and unshare -m"
        elif machine.removed_flags and not v4_host:
            left_out[machine_id] = "the CPU rows remove flags from an x86-64-v4 host"
        elif machine.relies_on_no_host_gpu and nvidia_host:
            left_out[machine_id] = (
                "this host has an NVIDIA driver: uv reads an empty NV_* variable as 'none', "
                "fitwheel as 'not set' and probes the host"
            )
    machines = {k: m for k, m in MACHINES.items() if k not in left_out}

    def one(item: tuple[str, Machine]) -> dict[str, Cell]:
        machine_id, machine = item
        cpuinfo = _fake_cpuinfo(tmp_path, machine_id, machine)
        target = tmp_path / "targets" / machine_id
        target.mkdir(parents=True)
        uv = _uv_choices(uv_bin, links, target, machine, cpuinfo, env)
        explained = _fitwheel_answers(links, target, machine, cpuinfo, env)
        return {p: Cell(_label(explained[p]), uv[p], explained[p]) for p in RELEASES}

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, machines.items()))
    return dict(zip(machines, results, strict=True)), left_out


@pytest.mark.skipif(sys.platform != "linux", reason="uv's x86-64 level comes from /proc/cpuinfo")
def test_uv_and_fitwheel_explain_choose_the_same_build(tmp_path: Path) -> None:
    matrix, left_out = _matrix(tmp_path)
    rows = []
    unexpected = []
    for machine_id, cells in matrix.items():
        for package, cell in cells.items():
            row = f"{machine_id:16} {package:13} fitwheel={cell.fitwheel!s:9} uv={cell.uv}"
            rows.append(row)
            named = EXPECTED_DIFFERENCES.get((machine_id, package)) or KNOWN_GAPS.get(
                (machine_id, package)
            )
            if named is not None:
                if (cell.fitwheel, cell.uv) != named[:2]:
                    unexpected.append(f"{row}  (named difference {named[:2]} changed)")
            elif cell.fitwheel != cell.uv:
                unexpected.append(row)
    rows += [f"{machine_id:16} left out: {why}" for machine_id, why in left_out.items()]
    print("\n".join(rows))
    assert not unexpected, "fitwheel and uv disagree:\n" + "\n".join(unexpected)
    assert len(matrix) >= len(MACHINES) // 2, left_out


def test_uv_cannot_be_given_an_aarch64_cpu_beyond_armv8a_here(tmp_path: Path) -> None:
    """Why the matrix has one AArch64 machine: uv's aarch64 provider has no override variable,
    and with `--python-platform aarch64-…` on this host it reports `version :: 8a` only, even
    when /proc/cpuinfo is an Armv8.2-A one (`Features: … asimddp … sve …`). fitwheel, given
    that CPU by a profile, takes the 8.2a build. If uv ever reports more, this fails: add the
    machine to MACHINES."""
    from uv import find_uv_bin

    release = RELEASES["arm_versions"]
    links = tmp_path / "links"
    wheel = make_wheel(tmp_path / "plain", "arm_versions", VERSION)
    for label, properties in release.variants.items():
        args = ["wheel", "make-variant", str(wheel), "-o", str(links)]
        args += ["--null"] if label == "null" else ["--label", label]
        args += [a for p in properties for a in ("-p", p)] + ["--namespace-priority", "aarch64"]
        assert _fitwheel(*args).returncode == 0
    assert _fitwheel("variants", "generate", str(links)).returncode == 0
    cpuinfo = None
    if sys.platform == "linux" and _can_fake_cpuinfo():
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(
            "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp "
            "asimdhp cpuid asimdrdm lrcpc dcpop asimddp sve\nCPU implementer\t: 0x41\n"
            "CPU architecture: 8\n"
        )
    env = _base_env(tmp_path / "cache")
    machine = Machine(aarch64="8.2a")
    uv = _uv_choices(find_uv_bin(), links, tmp_path / "t", machine, cpuinfo, env, ("arm_versions",))
    assert uv["arm_versions"] == "v8"
    (tmp_path / "t").mkdir(exist_ok=True)
    profile = tmp_path / "t" / "profile.json"
    profile.write_text(json.dumps(machine.fitwheel_profile()))
    explained = _fitwheel(
        "explain",
        "arm_versions",
        "--index-url",
        str(links),
        "--profile",
        str(profile),
        "--format",
        "json",
    )
    assert explained.returncode == 0, explained.stderr
    assert _label(json.loads(explained.stdout)["releases"][0]) == "v82"
