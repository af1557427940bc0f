"""The NVIDIA driver probe that runs in a child `python -I -S`, never in fitwheel's own process.

Loading libcuda or NVML can hang for seconds, crash, or leave CUDA state that breaks `fork`, so
the parent runs this file as a script with a hard timeout. Standard library only (it runs
without site-packages). Output, one JSON object per line on stdout: `{"call": NAME}` just before
each driver call (so a crash or a hang is pinned to the call that caused it) and, last,
`{"result": {"nvml": {...}, "cuda": {...}}}`.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NVML_SUCCESS = 0
CUDA_SUCCESS = 0
CUDA_ERROR_NO_DEVICE = 100
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76
WSL_LIBRARY_DIR = "/usr/lib/wsl/lib"

if sys.platform == "win32":
    NVML_NAMES = ("nvml.dll",)
    CUDA_NAMES = ("nvcuda.dll",)
else:
    NVML_NAMES = ("libnvidia-ml.so.1", f"{WSL_LIBRARY_DIR}/libnvidia-ml.so.1")
    CUDA_NAMES = ("libcuda.so.1", f"{WSL_LIBRARY_DIR}/libcuda.so.1")


def emit(message: dict[str, Any]) -> None:
    # os.write, not print: the line must be out before a crash in the very next call.
    os.write(1, (json.dumps(message) + "\n").encode())


def load(names: tuple[str, ...]) -> tuple[ctypes.CDLL | None, str]:
    """The first library that loads (by soname: the normal loader search), or None and why."""
    errors = []
    for name in names:
        emit({"call": f"dlopen {name}"})
        try:
            return ctypes.CDLL(name), name
        except OSError as exc:
            errors.append(str(exc))
    return None, "; ".join(errors)


def call(library: ctypes.CDLL, name: str, *args: Any) -> int:
    emit({"call": name})
    function = getattr(library, name)
    function.restype = ctypes.c_int
    return int(function(*args))


class CallFailed(Exception):
    """A driver call returned an error status; the message names the call and the status."""


def require(library: ctypes.CDLL, name: str, *args: Any, shown: str | None = None) -> None:
    """`call`, raising CallFailed unless it returns success (0 for NVML and CUDA alike)."""
    status = call(library, name, *args)
    if status != NVML_SUCCESS:
        raise CallFailed(f"{shown or name} returned {status}")


def probe_nvml() -> dict[str, Any]:
    library, where = load(NVML_NAMES)
    if library is None:
        return {"error": f"NVML not loadable: {where}"}
    result: dict[str, Any] = {"library": where}
    try:
        require(library, "nvmlInit_v2")
    except CallFailed as exc:
        result["error"] = str(exc)
        return result
    try:
        buffer = ctypes.create_string_buffer(96)
        if call(library, "nvmlSystemGetDriverVersion", buffer, ctypes.c_uint(96)) == NVML_SUCCESS:
            result["driver_version"] = buffer.value.decode("ascii", "replace")
        version = ctypes.c_int(0)
        # _v2: v1 invents a CUDA version when libcuda is missing.
        status = call(library, "nvmlSystemGetCudaDriverVersion_v2", ctypes.byref(version))
        if status == NVML_SUCCESS:
            result["cuda_driver_version"] = version.value
        count = ctypes.c_uint(0)
        require(library, "nvmlDeviceGetCount_v2", ctypes.byref(count))
        capabilities = []
        for index in range(count.value):
            handle = ctypes.c_void_p()
            name = "nvmlDeviceGetHandleByIndex_v2"
            require(
                library, name, ctypes.c_uint(index), ctypes.byref(handle), shown=f"{name}({index})"
            )
            major, minor = ctypes.c_int(0), ctypes.c_int(0)
            name = "nvmlDeviceGetCudaComputeCapability"
            args = (handle, ctypes.byref(major), ctypes.byref(minor))
            require(library, name, *args, shown=f"{name}({index})")
            capabilities.append(f"{major.value}.{minor.value}")
        result["compute_capabilities"] = capabilities
    except CallFailed as exc:
        result["error"] = str(exc)
    finally:
        call(library, "nvmlShutdown")
    return result


def probe_cuda() -> dict[str, Any]:
    library, where = load(CUDA_NAMES)
    if library is None:
        return {"error": f"libcuda not loadable: {where}"}
    result: dict[str, Any] = {"library": where}
    version = ctypes.c_int(0)
    if call(library, "cuDriverGetVersion", ctypes.byref(version)) == CUDA_SUCCESS:
        result["cuda_driver_version"] = version.value
    status = call(library, "cuInit", ctypes.c_uint(0))
    if status == CUDA_ERROR_NO_DEVICE:
        result["compute_capabilities"] = []
        return result
    try:
        if status != CUDA_SUCCESS:
            raise CallFailed(f"cuInit returned {status}")
        count = ctypes.c_int(0)
        require(library, "cuDeviceGetCount", ctypes.byref(count))
        capabilities = []
        for ordinal in range(count.value):
            device = ctypes.c_int(0)
            shown = f"cuDeviceGet({ordinal})"
            require(
                library, "cuDeviceGet", ctypes.byref(device), ctypes.c_int(ordinal), shown=shown
            )
            parts = []
            for attribute in (
                CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
            ):
                value = ctypes.c_int(0)
                args = (ctypes.byref(value), ctypes.c_int(attribute), device)
                shown = f"cuDeviceGetAttribute({attribute}, {ordinal})"
                require(library, "cuDeviceGetAttribute", *args, shown=shown)
                parts.append(str(value.value))
            capabilities.append(".".join(parts))
        result["compute_capabilities"] = capabilities
    except CallFailed as exc:
        result["error"] = str(exc)
    return result


def main() -> int:
    emit({"result": {"nvml": guarded(probe_nvml), "cuda": guarded(probe_cuda)}})
    return 0


def guarded(probe: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = probe()
    except (OSError, AttributeError, ValueError) as exc:
        # AttributeError: a library without the entry point (an old driver).
        return {"error": f"{type(exc).__name__}: {exc}"}
    return result


if __name__ == "__main__":
    sys.exit(main())
