"""`fitwheel detect` and `fitwheel profile` as real processes: sysroots, overrides, profiles."""

from __future__ import annotations

import functools
import json
import os
import platform
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fitwheel.detect import detect, detect_document
from fitwheel.probe.interpreter import linux_platforms, probe_interpreter
from helpers.cli import detect_json
from helpers.cli import fitwheel as run_fitwheel

SYSROOTS = Path(__file__).parent / "detect_sysroots"
# A real process; only the test describes the machine.
fitwheel = functools.partial(run_fitwheel, check=True, clean=True)


def test_gpu_node_sysroot() -> None:
    document = detect_json("--sysroot", str(SYSROOTS / "gpu-node"))
    facts = document["facts"]
    assert facts["amd"]["gfx_archs"] == ["gfx90a", "gfx942", "gfx1100"]
    assert facts["amd"]["rocm_version"] == "6.2"
    assert facts["nvidia"]["kernel_driver_version"] == "570.86.10"
    assert set(facts["nvidia"]["unknown"]) == {"cuda_driver_version", "compute_capabilities"}
    assert facts["intel"]["devices"] == [{"address": "0000:00:02.0", "device": "0x56a0"}]
    assert document["variants"]["amd"] == {
        "gfx_arch": ["gfx90a", "gfx942", "gfx1100"],
        "rocm_version": ["6.2", "6.1", "6.0"],
    }
    assert "nvidia" not in document["variants"] and "intel" not in document["variants"]
    if platform.machine() == "x86_64":
        assert document["variants"]["x86_64"]["level"] == ["v3", "v2", "v1"]


def test_nvidia_kernel_version_from_proc(tmp_path: Path) -> None:
    facts = detect_json("--sysroot", str(SYSROOTS / "nvidia-proc-only"))["facts"]
    assert facts["nvidia"]["kernel_driver_version"] == "550.54.14"


def test_visible_devices_narrow_amd() -> None:
    facts = detect_json("--sysroot", str(SYSROOTS / "gpu-node"), ROCR_VISIBLE_DEVICES="2")
    assert facts["facts"]["amd"]["gfx_archs"] == ["gfx1100"]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 sysroots")
@pytest.mark.parametrize("name", ["x86-v1-qemu64", "x86-v2-nehalem", "x86-v4-vm-masked"])
def test_x86_sysroots_through_the_cli(name: str) -> None:
    expected = {"x86-v1-qemu64": "v1", "x86-v2-nehalem": "v2", "x86-v4-vm-masked": "v4"}[name]
    variants = detect_json("--sysroot", str(SYSROOTS / name))["variants"]
    assert variants["x86_64"]["level"][0] == expected
    assert list(variants) == ["x86_64"]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="needs an x86-64 interpreter")
def test_foreign_cpu_sysroot_offers_no_cpu_namespace() -> None:
    document = detect_json("--sysroot", str(SYSROOTS / "aarch64-neoverse-v2"))
    assert "aarch64" not in document["variants"] and "x86_64" not in document["variants"]
    assert "describes an aarch64 CPU" in document["facts"]["cpu"]["unknown"]["flags"]


def test_interpreter_facts_match_the_running_interpreter() -> None:
    from packaging import tags

    interpreter = detect_json("--sysroot", str(SYSROOTS / "gpu-node"))["interpreter"]
    assert interpreter["implementation"] == sys.implementation.name
    assert interpreter["python_version"] == platform.python_version()
    assert interpreter["pointer_bits"] == struct.calcsize("P") * 8
    assert interpreter["platforms"] == list(tags.platform_tags())
    expected_abis = [t.abi for t in tags.sys_tags() if t.platform == interpreter["platforms"][0]]
    assert interpreter["abis"] == list(dict.fromkeys(expected_abis))
    if sys.platform.startswith("linux"):
        family, version = platform.libc_ver()
        assert interpreter["libc"] == family
        assert interpreter["libc_version"] == ".".join(version.split(".")[:2])


def test_linux_platforms_other_libcs() -> None:
    assert linux_platforms("aarch64", "musl", "1.2") == [
        "linux_aarch64",
        "musllinux_1_2_aarch64",
        "musllinux_1_1_aarch64",
        "musllinux_1_0_aarch64",
    ]
    assert linux_platforms("x32", "glibc", "2.36") == ["linux_x32"]
    arm = linux_platforms("armv7l", "glibc", "2.18")
    assert arm == ["linux_armv7l", "manylinux_2_18_armv7l", "manylinux_2_17_armv7l",
                   "manylinux2014_armv7l"]  # fmt: skip
    assert linux_platforms("x86_64", None, None) == ["linux_x86_64"]


def test_cpu_override() -> None:
    document = detect_json(FITWHEEL_X86_64_LEVEL="v2", FITWHEEL_AARCH64_VERSION="8.1a")
    cpu = document["facts"]["cpu"]
    if cpu["architecture"] == "x86_64":
        assert cpu["x86_64_level"] == "v2" and "flags" not in cpu
        assert document["variants"]["x86_64"]["level"] == ["v2", "v1"]
    elif cpu["architecture"] == "aarch64":
        assert document["variants"]["aarch64"]["version"] == ["8.1a", "8a"]


def test_amd_override() -> None:
    document = detect_json(FITWHEEL_AMD_GFX="gfx942")
    assert document["facts"]["amd"]["sources"] == {"gfx_archs": "FITWHEEL_AMD_GFX"}
    assert document["variants"]["amd"] == {"gfx_arch": ["gfx942"]}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FITWHEEL_X86_64_LEVEL", "v9", "FITWHEEL_X86_64_LEVEL: invalid x86-64 level 'v9'"),
        ("FITWHEEL_CUDA_DRIVER", "twelve", "FITWHEEL_CUDA_DRIVER: invalid CUDA version 'twelve'"),
        # Every version up to the driver's is listed: a huge one used to allocate until killed.
        (
            "FITWHEEL_CUDA_DRIVER",
            "999999999999",
            "FITWHEEL_CUDA_DRIVER: invalid CUDA version '999999999999'",
        ),
        ("FITWHEEL_CUDA_DRIVER", "1" * 5000, "FITWHEEL_CUDA_DRIVER: invalid CUDA version '111"),
        ("FITWHEEL_CUDA_ARCH", "8.6,x", "FITWHEEL_CUDA_ARCH: invalid compute capability 'x'"),
        ("FITWHEEL_AMD_GFX", "942", "FITWHEEL_AMD_GFX: invalid AMD GPU architecture '942'"),
    ],
)
def test_malformed_override_is_a_clear_error(variable: str, value: str, message: str) -> None:
    completed = fitwheel("detect", check=False, extra_env={variable: value})
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"fitwheel: error: {message}")
    assert "Traceback" not in completed.stderr


H100_PROFILE = """\
[interpreter]
implementation = "cpython"
python_version = "3.12.8"
abis = ["cp312", "abi3", "none"]
platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "linux_x86_64"]

[facts.cpu]
architecture = "x86_64"
x86_64_level = "v4"

[facts.nvidia]
cuda_driver_version = "12.8"
compute_capabilities = ["9.0"]

[variants.blas_lapack]
library = ["mkl", "openblas"]
"""


def test_hand_written_profile_goes_through_the_providers(tmp_path: Path) -> None:
    path = tmp_path / "h100.toml"
    path.write_text(H100_PROFILE)
    document = detect_json("--profile", str(path))
    assert document["interpreter"]["python_version"] == "3.12.8"
    variants = document["variants"]
    assert variants["blas_lapack"] == {"library": ["mkl", "openblas"]}
    assert variants["x86_64"]["level"] == ["v4", "v3", "v2", "v1"]
    assert variants["nvidia"]["cuda_version_lower_bound"][0] == "12.8"
    assert variants["nvidia"]["sm_arch"][:2] == ["90_real", "90_virtual"]
    # FITWHEEL_PROFILE does the same; --profile wins over it.
    assert detect_json(FITWHEEL_PROFILE=str(path))["variants"] == variants
    other = tmp_path / "other.toml"
    other.write_text('[variants.x86_64]\nlevel = ["v1"]\n')
    assert detect_json("--profile", str(path), FITWHEEL_PROFILE=str(other))["variants"] == variants


def test_explicit_variants_win_over_facts(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(H100_PROFILE + '\n[variants.nvidia]\nsm_arch = ["90_real"]\n')
    variants = detect_json("--profile", str(path))["variants"]
    assert variants["nvidia"] == {"sm_arch": ["90_real"]}
    assert variants["x86_64"]["level"][0] == "v4"


def test_capture_and_show_round_trip(tmp_path: Path) -> None:
    toml_path = tmp_path / "me.toml"
    fitwheel("profile", "capture", "-o", str(toml_path), "--sysroot", str(SYSROOTS / "gpu-node"))
    captured = detect_json("--sysroot", str(SYSROOTS / "gpu-node"))
    shown = json.loads(fitwheel("profile", "show", str(toml_path), "--format", "json").stdout)
    assert shown["variants"] == captured["variants"]
    assert shown["interpreter"] == captured["interpreter"]
    assert shown["facts"]["amd"] == captured["facts"]["amd"]
    json_path = tmp_path / "me.json"
    fitwheel("profile", "capture", "-o", str(json_path), "--sysroot", str(SYSROOTS / "gpu-node"))
    assert json.loads(json_path.read_text())["variants"] == captured["variants"]
    text = fitwheel("profile", "show", str(toml_path)).stdout
    assert "amd :: gfx_arch :: gfx90a, gfx942, gfx1100" in text


def test_bad_profile_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[facts.nvidia]\ncompute_capabilities = ["nine"]\n')
    completed = fitwheel("detect", "--profile", str(path), check=False)
    assert completed.returncode == 2
    assert "invalid compute capability 'nine'" in completed.stderr
    missing = fitwheel("detect", "--profile", str(tmp_path / "none.toml"), check=False)
    assert missing.returncode == 2 and "cannot read profile" in missing.stderr


def test_text_output_is_readable() -> None:
    text = fitwheel("detect", "--sysroot", str(SYSROOTS / "gpu-node")).stdout
    assert text.startswith("fitwheel detect (sysroot ")
    assert "interpreter: " in text and "\nvariants:\n" in text
    assert "kernel_driver_version: 570.86.10" in text


def test_python_api(tmp_path: Path) -> None:
    profile = detect(sysroot=str(SYSROOTS / "gpu-node"), environ={})
    assert profile.variants.values("amd", "gfx_arch") == ("gfx90a", "gfx942", "gfx1100")
    assert profile.interpreter is not None
    assert profile.interpreter.table == probe_interpreter()
    document = detect_document(sysroot=str(SYSROOTS / "gpu-node"), environ={})
    assert document["facts"]["amd"] == dict(profile.facts["amd"])


def test_detect_imports_nothing_heavy() -> None:
    code = (
        "import sys; from fitwheel.cli import main; import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['detect', '--format', 'json'])\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FITWHEEL_")}
    # With both NVIDIA facts overridden no child runs, even where a driver is installed.
    env.update(FITWHEEL_CUDA_DRIVER="12.8", FITWHEEL_CUDA_ARCH="9.0")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    heavy = {"packaging", "aiohttp", "tomllib", "tomli_w", "ctypes", "subprocess", "hashlib"}
    assert heavy.isdisjoint(out), heavy & set(out)


def test_run_fast_matches_the_argparse_path() -> None:
    code = "import sys; from fitwheel.cli.detect import run_fast;code = run_fast(sys.argv[1:]); sys.exit(3 if code is None else code)"
    args = ["--format=json", "--sysroot", str(SYSROOTS / "gpu-node"), "--no-cache"]
    fast = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    assert fast.stdout == fitwheel("detect", *args).stdout
    for unknown in (["--help"], ["--format", "yaml"], ["--timeout", "soon"], ["--sysroot"]):
        rejected = subprocess.run([sys.executable, "-c", code, *unknown], capture_output=True)
        assert rejected.returncode == 3  # None: the shell falls back to argparse
    bad = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, "FITWHEEL_X86_64_LEVEL": "v7"},
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("fitwheel: error: FITWHEEL_X86_64_LEVEL: invalid x86-64 level")


def test_dump_json_is_json_dumps() -> None:
    from fitwheel.cli.detect import dump_json

    document = detect_document(sysroot=str(SYSROOTS / "gpu-node"), environ={})
    document["edge"] = {"s": 'é"\\\n\x00', "f": 1.5, "e": [], "o": {}, "n": None, "b": [True]}
    assert dump_json(document) == json.dumps(document, indent=2)
