"""A real, minimal PEP 517 backend that records the build environment in the wheel it makes.

Copied into test projects (`backend-path`), so builds need nothing from an index, isolated or
not. The wheel's `flagdemo/build.json` holds the variables a variant build sets; the project's
`behaviour.json` makes chosen variants fail, make no wheel, or ignore their flags.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import zipfile
from typing import Any

VARIABLES = (
    "CFLAGS",
    "CXXFLAGS",
    "CMAKE_ARGS",
    "CUDAFLAGS",
    "TORCH_CUDA_ARCH_LIST",
    "FITWHEEL_VARIANT_LABEL",
    "FITWHEEL_VARIANT_PROPERTIES",
)


def _behaviour() -> dict[str, Any]:
    try:
        with open("behaviour.json") as handle:
            loaded: dict[str, Any] = json.load(handle)
            return loaded
    except FileNotFoundError:
        return {}


def _hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    behaviour = _behaviour()
    label = os.environ.get("FITWHEEL_VARIANT_LABEL", "")
    time.sleep(behaviour.get("sleep", {}).get(label, 0))
    if label in behaviour.get("fail", []):
        raise RuntimeError(f"error: flagdemo cannot be built for {label}")
    if label in behaviour.get("no_wheel", []):
        return "flagdemo-1.0-py3-none-any.whl"
    recorded: dict[str, Any]
    if behaviour.get("ignore_flags"):
        recorded = {"built": "the same way every time"}
    else:
        recorded = {name: os.environ.get(name) for name in VARIABLES}
        recorded["config_settings"] = config_settings or {}
    files = {
        "flagdemo/__init__.py": b"",
        "flagdemo/build.json": json.dumps(recorded, sort_keys=True).encode(),
        "flagdemo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: flagdemo\nVersion: 1.0\n",
        "flagdemo-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: flagbackend\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},{_hash(data)},{len(data)}\n" for name, data in files.items())
    record += "flagdemo-1.0.dist-info/RECORD,,\n"
    files["flagdemo-1.0.dist-info/RECORD"] = record.encode()
    name = "flagdemo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for member, data in files.items():
            archive.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), data)
    return name
