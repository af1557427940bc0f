"""NVIDIA facts: kernel driver version, CUDA driver version, compute capability of each device.

Cheapest source first: overrides, then the kernel module's version file, then NVML and libcuda in
a child process (`nvidia_child.py`, hard timeout), whose answer is cached on disk. The library
probe runs whether or not the kernel module file exists (WSL has none).
"""

from __future__ import annotations

import os
import re
import sys

from fitwheel.probe import cache
from fitwheel.probe.libraries import file_identity, find_library
from fitwheel.probe.pci import NVIDIA_VENDOR, display_devices
from fitwheel.runtime import read_pseudo_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from fitwheel.probe.overrides import Overrides

DRIVER_ENVS = ("FITWHEEL_CUDA_DRIVER", "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION")
ARCH_ENVS = ("FITWHEEL_CUDA_ARCH", "NV_VARIANT_PROVIDER_FORCE_SM_ARCH")
LIBRARIES = ("libnvidia-ml.so.1", "libcuda.so.1")
CACHE_NAME = "nvidia"
_VERSION_FILE_LIMIT = 4096
_DRIVER_VERSION_RE = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6}){0,3}")
MAX_CUDA_MAJOR = 99
MAX_CUDA_MINOR = 99
_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nvidia_child.py")


def parse_cuda_version(value: str) -> str:
    """`12.8`, `12.8.1` or `12080` (as cuDriverGetVersion gives) -> `12.8`; ValueError otherwise."""
    text = value.strip()
    major = minor = -1
    if text.isdigit() and 4 <= len(text) <= 6:
        number = int(text)
        major, minor = number // 1000, number % 1000 // 10
    else:
        parts = text.split(".")
        if 1 <= len(parts) <= 3 and all(part.isdigit() and len(part) <= 4 for part in parts):
            major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    # Bounded: every version up to the driver's is listed, so a huge one would never end.
    if 0 <= major <= MAX_CUDA_MAJOR and 0 <= minor <= MAX_CUDA_MINOR:
        return f"{major}.{minor}"
    raise ValueError(
        f"invalid CUDA version {value[:40]!r}: expected MAJOR.MINOR such as 12.8 (major at most "
        f"{MAX_CUDA_MAJOR}, minor at most {MAX_CUDA_MINOR})"
    )


def parse_compute_capabilities(value: str) -> list[str]:
    """`8.6,9.0` (or `86`, `sm_90`) -> ["8.6", "9.0"]; ValueError otherwise."""
    capabilities = []
    for item in value.replace(" ", "").split(","):
        text = item.lower().removeprefix("sm_").removesuffix("_real")
        major, dot, minor = text.partition(".")
        if not dot and text.isdigit() and len(text) >= 2:
            major, minor = text[:-1], text[-1]
        if not (major.isdigit() and minor.isdigit()):
            raise ValueError(
                f"invalid compute capability {item!r}: expected MAJOR.MINOR[,...] such as 8.6,9.0"
            )
        capabilities.append(f"{int(major)}.{int(minor)}")
    return capabilities


def kernel_driver_version(sysroot: str) -> str | None:
    """From `/sys/module/nvidia/version` or `/proc/driver/nvidia/version` (`NVRM version: ...`).

    Read with a bound and without blocking; anything that is not a version (bytes that are
    not text, a device, a FIFO) is no version.
    """
    raw = read_pseudo_file(os.path.join(sysroot, "sys/module/nvidia/version"), _VERSION_FILE_LIMIT)
    version = raw.decode("ascii", "replace").strip() if raw else ""
    if _DRIVER_VERSION_RE.fullmatch(version):
        return version
    raw = read_pseudo_file(os.path.join(sysroot, "proc/driver/nvidia/version"), _VERSION_FILE_LIMIT)
    if not raw:
        return None
    first = raw.decode("ascii", "replace").partition("\n")[0]
    # "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024"
    for word in first.split():
        if _DRIVER_VERSION_RE.fullmatch(word) and "." in word:
            return word
    return None


def probe_nvidia(  # noqa: C901
    sysroot: str = "/",
    timeout: float = 10.0,
    use_cache: bool = True,
    environ: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
) -> dict[str, Any]:
    """The `[facts.nvidia]` table. Never raises: what is unknown is named in `unknown`, with why.

    `overrides` (parsed by `read_overrides`) give the driver version and compute capabilities
    instead of the driver.
    """
    env = os.environ if environ is None else environ
    facts: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    sources: dict[str, str] = {}
    driver_override = overrides.cuda_driver_version if overrides is not None else None
    arch_override = overrides.compute_capabilities if overrides is not None else None
    if driver_override:
        facts["cuda_driver_version"] = driver_override.value
        sources["cuda_driver_version"] = driver_override.variable
    if arch_override:
        facts["compute_capabilities"] = list(arch_override.value)
        sources["compute_capabilities"] = arch_override.variable
    if driver_override and arch_override:
        return _finish(facts, sources, unknown)
    if sys.platform == "darwin":
        return _finish(facts, sources, _unknown_rest(facts, "there is no CUDA on macOS"))

    kernel = kernel_driver_version(sysroot)
    if kernel:
        facts["kernel_driver_version"] = kernel
    if sysroot != "/":
        reason = f"driver libraries are not probed with --sysroot {sysroot}"
        return _finish(facts, sources, _unknown_rest(facts, reason))
    libraries = {name: find_library(name, dict(env)) for name in LIBRARIES}
    if sys.platform.startswith("linux") and not any(libraries.values()):
        reason = (
            "no NVIDIA driver library (libnvidia-ml.so.1, libcuda.so.1) in LD_LIBRARY_PATH, "
            "/etc/ld.so.cache, the default directories or /usr/lib/wsl/lib"
        )
        return _finish(facts, sources, _unknown_rest(facts, reason))

    key = cache_key(sysroot, env, kernel, libraries)
    directory = cache.cache_dir(dict(env))
    probed = cache.load(CACHE_NAME, key, directory) if use_cache else None
    if probed is None:
        probed = run_child(timeout)
        if use_cache and probed.get("complete"):
            cache.store(CACHE_NAME, key, probed, directory)
    else:
        probed = {**probed, "cached": True}
    for name, value in probed.get("facts", {}).items():
        if name not in facts:
            facts[name] = value
            sources[name] = probed.get("sources", {}).get(name, "driver")
    if probed.get("cached"):
        facts["from_cache"] = True
    reasons = probed.get("unknown", {})
    for name in ("cuda_driver_version", "compute_capabilities"):
        if name not in facts:
            unknown[name] = reasons.get(name) or probed.get("error") or "not reported"
    return _finish(facts, sources, unknown)


def cache_key(
    sysroot: str, env: Mapping[str, str], kernel: str | None, libraries: dict[str, list[str]]
) -> dict[str, Any]:
    """What the driver's answer depends on: a reboot, a driver upgrade (kernel module or library
    file), a different device list or `CUDA_VISIBLE_DEVICES`, another interpreter."""
    return {
        "boot_id": cache.boot_id(sysroot),
        "kernel_driver_version": kernel,
        "libraries": {name: [file_identity(p) for p in paths] for name, paths in libraries.items()},
        "devices": _device_list(sysroot),
        "cuda_visible_devices": env.get("CUDA_VISIBLE_DEVICES"),
        # The interpreter the child runs as, whatever alias started it: `venv/bin/python`,
        # `python3` and the base interpreter are one file and load the same libraries.
        "python": os.path.realpath(sys.executable),
    }


def _unknown_rest(facts: dict[str, Any], reason: str) -> dict[str, str]:
    return {
        name: reason
        for name in ("cuda_driver_version", "compute_capabilities")
        if name not in facts
    }


def _finish(
    facts: dict[str, Any], sources: dict[str, str], unknown: dict[str, str]
) -> dict[str, Any]:
    if sources:
        facts["sources"] = sources
    if unknown:
        facts["unknown"] = unknown
    return facts


def _device_list(sysroot: str) -> list[str]:
    # The driver's own list is one directory read; the PCI scan is the fallback (containers).
    try:
        return sorted(os.listdir(os.path.join(sysroot, "proc/driver/nvidia/gpus")))
    except OSError:
        pass
    devices = [str(device["address"]) for device in display_devices(sysroot, NVIDIA_VENDOR)]
    if os.path.exists(os.path.join(sysroot, "dev/dxg")):
        devices.append("dxg")  # WSL: the GPUs sit behind the DirectX paravirtual device
    return devices


def run_child(timeout: float) -> dict[str, Any]:
    """Run `nvidia_child.py` in `python -I -S`, killed (with its process group) after `timeout`.

    Returns `{"facts", "sources", "unknown", "complete"}` or `{"error": reason}`.
    """
    import json
    import signal
    import subprocess
    import time

    from fitwheel.progress import Waiting

    command = [sys.executable, "-I", "-S", _CHILD]
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=sys.platform != "win32",
        )
    except OSError as exc:
        return {"error": f"could not start the driver probe: {exc}"}
    timed_out = False
    deadline = time.monotonic() + timeout
    with Waiting("the NVIDIA driver probe") as waiting:
        while True:
            # In slices, so that a slow driver (seconds without persistence mode) shows.
            left = deadline - time.monotonic()
            try:
                stdout, stderr = child.communicate(timeout=max(0.0, min(left, 0.25)))
                break
            except subprocess.TimeoutExpired:
                if left <= 0.25:
                    _kill(child, signal)
                    stdout, stderr = child.communicate()
                    timed_out = True
                    break
                waiting.tick()
    messages = []
    for line in stdout.decode("utf-8", "replace").splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:
            continue
    last_call = next((m["call"] for m in reversed(messages) if "call" in m), None)
    result = next((m["result"] for m in messages if "result" in m), None)
    if timed_out:
        return {"error": f"the NVIDIA driver did not answer within {timeout:g} s (in {last_call})"}
    if result is None:
        code = child.returncode
        how = f"signal {_signal_name(signal, -code)}" if code < 0 else f"exit status {code}"
        detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        suffix = f": {detail[0]}" if detail[0] and code >= 0 else ""
        return {"error": f"the NVIDIA driver probe crashed in {last_call} ({how}){suffix}"}
    return merge_driver_results(result)


def _kill(child: Any, signal: Any) -> None:
    try:
        if sys.platform == "win32":
            child.kill()
        else:
            os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        child.kill()


def _signal_name(signal: Any, number: int) -> str:
    try:
        return str(signal.Signals(number).name)
    except ValueError:
        return str(number)


def merge_driver_results(result: dict[str, Any]) -> dict[str, Any]:
    """Combine NVML's and libcuda's answers: libcuda first, as it honours CUDA_VISIBLE_DEVICES."""
    nvml = result.get("nvml") or {}
    cuda = result.get("cuda") or {}
    facts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    unknown: dict[str, str] = {}
    if "driver_version" in nvml:
        facts["driver_version"] = nvml["driver_version"]
        sources["driver_version"] = "nvml"
    for source, answer in (("libcuda", cuda), ("nvml", nvml)):
        if "cuda_driver_version" in answer and "cuda_driver_version" not in facts:
            facts["cuda_driver_version"] = parse_cuda_version(str(answer["cuda_driver_version"]))
            sources["cuda_driver_version"] = source
    if "compute_capabilities" in cuda:
        facts["compute_capabilities"] = cuda["compute_capabilities"]
        sources["compute_capabilities"] = "libcuda"
    elif "compute_capabilities" in nvml:
        visible = _visible(nvml["compute_capabilities"], os.environ.get("CUDA_VISIBLE_DEVICES"))
        facts["compute_capabilities"] = visible
        sources["compute_capabilities"] = "nvml"
    errors = [answer["error"] for answer in (nvml, cuda) if "error" in answer]
    for name in ("cuda_driver_version", "compute_capabilities"):
        if name not in facts:
            unknown[name] = "; ".join(errors) or "not reported by the driver"
    return {
        "facts": facts,
        "sources": sources,
        "unknown": unknown,
        "errors": errors,
        "complete": not unknown,
    }


def _visible(capabilities: list[str], visible: str | None) -> list[str]:
    # NVML ignores CUDA_VISIBLE_DEVICES; apply its index form the way libcuda would (the list
    # ends at the first entry that is not a valid index). UUID entries keep every device.
    if visible is None:
        return capabilities
    chosen: list[str] = []
    for entry in visible.split(","):
        entry = entry.strip()
        if entry.startswith(("GPU-", "MIG-")):
            return capabilities
        if not entry.isdigit() or int(entry) >= len(capabilities):
            break
        chosen.append(capabilities[int(entry)])
    return chosen
