"""The NVIDIA probe against real compiled stubs of libnvidia-ml.so.1 and libcuda.so.1.

The stubs are C libraries built here with gcc and found by the dynamic loader through
LD_LIBRARY_PATH, exactly as a real driver would be; `fitwheel detect` runs as a real process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or shutil.which("gcc") is None,
        reason="the driver stubs are Linux shared libraries built with gcc",
    ),
    # gcc builds the stubs, and each test runs fitwheel detect as a process.
    pytest.mark.slow,
]

STUB_SOURCE = r"""
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Two devices: an RTX 3090-like 8.6 and a GTX 1080 Ti-like 6.1, on a 12.8 driver. */
static const int CC[2][2] = {{8, 6}, {6, 1}};
#ifdef STUB_NO_DEVICE
#define NDEV 0
#else
#define NDEV 2
#endif
static int visible[2];
static int nvisible;

static void misbehave(void) {
#if defined(STUB_HANG)
    for (;;) sleep(1000);
#elif defined(STUB_SEGV)
    raise(SIGSEGV);
#endif
}

/* libcuda honours CUDA_VISIBLE_DEVICES (index form); NVML does not. */
static void init_visible(void) {
    const char *value = getenv("CUDA_VISIBLE_DEVICES");
    char buffer[64], *token, *end;
    nvisible = 0;
    if (!value) {
        for (int i = 0; i < NDEV; i++) visible[nvisible++] = i;
        return;
    }
    strncpy(buffer, value, sizeof buffer - 1);
    buffer[sizeof buffer - 1] = 0;
    for (token = strtok(buffer, ","); token && nvisible < 2; token = strtok(NULL, ",")) {
        long index = strtol(token, &end, 10);
        if (*end || end == token || index < 0 || index >= NDEV) break;
        visible[nvisible++] = (int)index;
    }
}

int nvmlInit_v2(void) { misbehave(); return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlSystemGetDriverVersion(char *buffer, unsigned int length) {
    strncpy(buffer, "570.86.10", length);
    return 0;
}
int nvmlSystemGetCudaDriverVersion_v2(int *version) { *version = 12080; return 0; }
int nvmlDeviceGetCount_v2(unsigned int *count) { *count = NDEV; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device) {
    if (index >= NDEV) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
    *device = (void *)(long)(index + 1);
    return 0;
}
int nvmlDeviceGetCudaComputeCapability(void *device, int *major, int *minor) {
    long index = (long)device - 1;
#ifdef STUB_FAIL_DEVICE
    return 999; /* NVML_ERROR_UNKNOWN */
#endif
    *major = CC[index][0];
    *minor = CC[index][1];
    return 0;
}

int cuInit(unsigned int flags) {
    (void)flags;
    misbehave();
    if (NDEV == 0) return 100; /* CUDA_ERROR_NO_DEVICE */
    init_visible();
    return 0;
}
int cuDriverGetVersion(int *version) { *version = 12080; return 0; }
int cuDeviceGetCount(int *count) { *count = nvisible; return 0; }
int cuDeviceGet(int *device, int ordinal) {
    if (ordinal < 0 || ordinal >= nvisible) return 101; /* CUDA_ERROR_INVALID_DEVICE */
    *device = visible[ordinal];
    return 0;
}
int cuDeviceGetAttribute(int *value, int attribute, int device) {
#ifdef STUB_FAIL_DEVICE
    return 999; /* CUDA_ERROR_UNKNOWN */
#endif
    if (attribute == 75) *value = CC[device][0];
    else if (attribute == 76) *value = CC[device][1];
    else return 1;
    return 0;
}
"""

KINDS = {
    "normal": "",
    "no_device": "STUB_NO_DEVICE",
    "hang": "STUB_HANG",
    "segv": "STUB_SEGV",
    "fail_device": "STUB_FAIL_DEVICE",
}


@pytest.fixture(scope="session")
def stub_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One folder per behaviour, each with libnvidia-ml.so.1 and libcuda.so.1 built by gcc."""
    root = tmp_path_factory.mktemp("nvidia-stubs")
    source = root / "stub.c"
    source.write_text(STUB_SOURCE)
    folders = {}
    for kind, define in KINDS.items():
        folder = root / kind
        folder.mkdir()
        for soname in ("libnvidia-ml.so.1", "libcuda.so.1"):
            command = ["gcc", "-shared", "-fPIC", "-O1", "-o", str(folder / soname), str(source)]
            if define:
                command.insert(1, f"-D{define}")
            subprocess.run(command, check=True)
        folders[kind] = folder
    nvml_only = root / "nvml_only"
    nvml_only.mkdir()
    shutil.copy(folders["normal"] / "libnvidia-ml.so.1", nvml_only / "libnvidia-ml.so.1")
    folders["nvml_only"] = nvml_only
    return folders


def detect_json(
    library_dir: Path, cache_dir: Path, *extra: str, **env_extra: str
) -> tuple[dict[str, Any], float]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FITWHEEL_", "NV_VARIANT_PROVIDER_", "CUDA_VISIBLE_DEVICES"))
    }
    env.update(LD_LIBRARY_PATH=str(library_dir), FITWHEEL_CACHE_DIR=str(cache_dir), **env_extra)
    command = [sys.executable, "-m", "fitwheel", "detect", "--format", "json", *extra]
    start = time.monotonic()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout), elapsed


def test_two_devices(stub_dirs: dict[str, Path], tmp_path: Path) -> None:
    document, _ = detect_json(stub_dirs["normal"], tmp_path, "--no-cache")
    nvidia = document["facts"]["nvidia"]
    assert nvidia["cuda_driver_version"] == "12.8"
    assert nvidia["driver_version"] == "570.86.10"
    assert nvidia["compute_capabilities"] == ["8.6", "6.1"]
    assert nvidia["sources"] == {
        "driver_version": "nvml",
        "cuda_driver_version": "libcuda",
        "compute_capabilities": "libcuda",
    }
    assert "unknown" not in nvidia
    variants = document["variants"]["nvidia"]
    assert variants["cuda_version_lower_bound"][:3] == ["12.8", "12.7", "12.6"]
    assert variants["cuda_version_upper_bound"][-1] == "12.9"
    # The least capable device (6.1) governs: its SASS, then every PTX it can JIT.
    assert variants["sm_arch"] == [
        "61_real", "60_real", "61_virtual", "60_virtual",
        "59_virtual", "58_virtual", "57_virtual", "56_virtual", "55_virtual",
        "54_virtual", "53_virtual", "52_virtual", "51_virtual", "50_virtual",
    ]  # fmt: skip


def test_cuda_visible_devices_is_honoured(stub_dirs: dict[str, Path], tmp_path: Path) -> None:
    document, _ = detect_json(stub_dirs["normal"], tmp_path, "--no-cache", CUDA_VISIBLE_DEVICES="0")
    assert document["facts"]["nvidia"]["compute_capabilities"] == ["8.6"]
    assert document["variants"]["nvidia"]["sm_arch"][:3] == ["86_real", "85_real", "84_real"]


def test_nvml_fallback_applies_cuda_visible_devices(
    stub_dirs: dict[str, Path], tmp_path: Path
) -> None:
    document, _ = detect_json(
        stub_dirs["nvml_only"], tmp_path, "--no-cache", CUDA_VISIBLE_DEVICES="1"
    )
    nvidia = document["facts"]["nvidia"]
    assert nvidia["compute_capabilities"] == ["6.1"]
    assert nvidia["sources"] == {
        "driver_version": "nvml",
        "cuda_driver_version": "nvml",
        "compute_capabilities": "nvml",
    }


def test_no_device(stub_dirs: dict[str, Path], tmp_path: Path) -> None:
    document, _ = detect_json(stub_dirs["no_device"], tmp_path, "--no-cache")
    nvidia = document["facts"]["nvidia"]
    assert nvidia["cuda_driver_version"] == "12.8"
    assert nvidia["compute_capabilities"] == []
    assert "nvidia" not in document["variants"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("hang", "the NVIDIA driver did not answer within 2 s (in nvmlInit_v2)"),
        ("segv", "the NVIDIA driver probe crashed in nvmlInit_v2 (signal SIGSEGV)"),
    ],
)
@pytest.mark.slow
def test_misbehaving_driver_costs_at_most_the_timeout(
    stub_dirs: dict[str, Path], tmp_path: Path, kind: str, reason: str
) -> None:
    document, elapsed = detect_json(stub_dirs[kind], tmp_path, "--no-cache", "--timeout", "2")
    assert elapsed < 2 + 1
    nvidia = document["facts"]["nvidia"]
    assert nvidia["unknown"] == {"cuda_driver_version": reason, "compute_capabilities": reason}
    assert "nvidia" not in document["variants"]


def test_failing_device_query_is_reported_not_guessed(
    stub_dirs: dict[str, Path], tmp_path: Path
) -> None:
    document, _ = detect_json(stub_dirs["fail_device"], tmp_path, "--no-cache")
    nvidia = document["facts"]["nvidia"]
    assert nvidia["cuda_driver_version"] == "12.8"
    assert "compute_capabilities" not in nvidia
    assert nvidia["unknown"] == {
        "compute_capabilities": "nvmlDeviceGetCudaComputeCapability(0) returned 999; "
        "cuDeviceGetAttribute(75, 0) returned 999"
    }
    # The driver's CUDA version is still a fact; no architecture is offered without one.
    variants = document["variants"]["nvidia"]
    assert variants["cuda_version_lower_bound"][0] == "12.8"
    assert "sm_arch" not in variants


def test_cache_hit_and_invalidation(stub_dirs: dict[str, Path], tmp_path: Path) -> None:
    libraries = tmp_path / "lib"
    shutil.copytree(stub_dirs["normal"], libraries)
    cache = tmp_path / "cache"
    first, _ = detect_json(libraries, cache)
    assert "from_cache" not in first["facts"]["nvidia"]
    assert (cache / "nvidia.json").is_file()
    second, _ = detect_json(libraries, cache)
    assert second["facts"]["nvidia"]["from_cache"] is True
    assert second["facts"]["nvidia"]["compute_capabilities"] == ["8.6", "6.1"]
    # A different device list (CUDA_VISIBLE_DEVICES) is a different key.
    hidden, _ = detect_json(libraries, cache, CUDA_VISIBLE_DEVICES="1")
    assert "from_cache" not in hidden["facts"]["nvidia"]
    assert hidden["facts"]["nvidia"]["compute_capabilities"] == ["6.1"]
    # A driver upgrade replaces the library file: the cached answer no longer applies.
    shutil.copy(stub_dirs["no_device"] / "libcuda.so.1", libraries / "libcuda.so.1")
    shutil.copy(stub_dirs["no_device"] / "libnvidia-ml.so.1", libraries / "libnvidia-ml.so.1")
    upgraded, _ = detect_json(libraries, cache)
    assert "from_cache" not in upgraded["facts"]["nvidia"]
    assert upgraded["facts"]["nvidia"]["compute_capabilities"] == []
    # --no-cache probes even with a valid entry.
    bypassed, _ = detect_json(libraries, cache, "--no-cache")
    assert "from_cache" not in bypassed["facts"]["nvidia"]


def test_failures_are_not_cached(stub_dirs: dict[str, Path], tmp_path: Path) -> None:
    detect_json(stub_dirs["segv"], tmp_path, "--timeout", "2")
    assert not (tmp_path / "nvidia.json").exists()


def test_overrides_skip_the_driver(stub_dirs: dict[str, Path], tmp_path: Path) -> None:
    # The hanging stub proves no driver call is made when both facts are overridden.
    document, elapsed = detect_json(
        stub_dirs["hang"], tmp_path, "--timeout", "5",
        FITWHEEL_CUDA_DRIVER="12.6", FITWHEEL_CUDA_ARCH="9.0",
    )  # fmt: skip
    assert elapsed < 5
    nvidia = document["facts"]["nvidia"]
    assert nvidia["cuda_driver_version"] == "12.6"
    assert nvidia["compute_capabilities"] == ["9.0"]
    assert nvidia["sources"] == {
        "cuda_driver_version": "FITWHEEL_CUDA_DRIVER",
        "compute_capabilities": "FITWHEEL_CUDA_ARCH",
    }
    assert document["variants"]["nvidia"]["sm_arch"][0] == "90_real"


def test_fitwheel_override_wins_over_uv_variable(
    stub_dirs: dict[str, Path], tmp_path: Path
) -> None:
    document, _ = detect_json(
        stub_dirs["normal"], tmp_path, "--no-cache",
        NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION="12.4",
        NV_VARIANT_PROVIDER_FORCE_SM_ARCH="7.5",
        FITWHEEL_CUDA_ARCH="8.0",
    )  # fmt: skip
    nvidia = document["facts"]["nvidia"]
    assert nvidia["cuda_driver_version"] == "12.4"  # uv's variable, FITWHEEL_CUDA_DRIVER unset
    assert nvidia["compute_capabilities"] == ["8.0"]  # FITWHEEL_CUDA_ARCH beats uv's
    assert nvidia["sources"] == {
        "cuda_driver_version": "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION",
        "compute_capabilities": "FITWHEEL_CUDA_ARCH",
    }


def test_empty_override_counts_as_absent(stub_dirs: dict[str, Path], tmp_path: Path) -> None:
    document, _ = detect_json(
        stub_dirs["normal"], tmp_path, "--no-cache", FITWHEEL_CUDA_DRIVER="", FITWHEEL_CUDA_ARCH=""
    )
    assert document["facts"]["nvidia"]["sources"]["cuda_driver_version"] == "libcuda"


def test_no_library_means_no_child(tmp_path: Path) -> None:
    document, _ = detect_json(tmp_path / "empty", tmp_path, "--no-cache")
    reason = document["facts"]["nvidia"]["unknown"]["cuda_driver_version"]
    assert reason.startswith("no NVIDIA driver library")
    assert "nvidia" not in document["variants"]


@pytest.mark.gpu
def test_real_gpu() -> None:
    if shutil.which("nvidia-smi") is None:
        pytest.skip("no NVIDIA GPU on this machine")
    completed = subprocess.run(
        [sys.executable, "-m", "fitwheel", "detect", "--format", "json", "--no-cache"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    document = json.loads(completed.stdout)
    smi = subprocess.run(
        ["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    expected = [line.strip() for line in smi.stdout.splitlines() if line.strip()]
    if os.environ.get("CUDA_VISIBLE_DEVICES") is None:
        assert document["facts"]["nvidia"]["compute_capabilities"] == expected
    assert "sm_arch" in document["variants"]["nvidia"]


@pytest.mark.slow
def test_a_slow_driver_probe_shows_progress_with_v_only(
    stub_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """A line per half second after the first second of waiting, on stderr, with -v (or on a
    terminal); a pipe without -v gets nothing, and neither does -q."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FITWHEEL_", "NV_"))}
    env.update(LD_LIBRARY_PATH=str(stub_dirs["hang"]), FITWHEEL_CACHE_DIR=str(tmp_path))
    stderr = {}
    for flags in ((), ("-v",), ("-v", "-q")):
        command = [sys.executable, "-m", "fitwheel", *flags, "detect", "--no-cache"]
        completed = subprocess.run(
            [*command, "--timeout", "2"], env=env, capture_output=True, text=True, timeout=60
        )
        assert completed.returncode == 0, completed.stderr
        stderr[flags] = completed.stderr.splitlines()
    assert stderr[()] == [] and stderr[("-v", "-q")] == []
    lines = [line for line in stderr[("-v",)] if "NVIDIA driver probe" in line]
    waiting = [re.fullmatch(r"fitwheel: waiting for the NVIDIA driver probe \((\d\.\d) s\)…", x)
               for x in lines[:-1]]  # fmt: skip
    assert all(waiting), lines
    seconds = [float(m[1]) for m in waiting if m is not None]
    assert 1.0 <= seconds[0] < 1.5 and seconds == sorted(seconds) and len(seconds) >= 1
    assert re.fullmatch(r"fitwheel: waited for the NVIDIA driver probe \(2\.\d s\)", lines[-1])
