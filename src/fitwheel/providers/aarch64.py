"""`aarch64` provider: architecture version and extensions of the CPU, for an AArch64 interpreter."""

from __future__ import annotations

from fitwheel.runtime import aarch64_properties, cpu_namespace
from fitwheel.runtime.cpu_details import aarch64_version_properties, parse_aarch64_version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def provide(facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """From `facts.cpu`: `aarch64_version` (an override or a target) wins over `flags`."""
    cpu = facts.get("cpu") or {}
    if cpu_namespace(str(cpu.get("architecture"))) != "aarch64":
        return {}
    version = cpu.get("aarch64_version")
    if version:
        return aarch64_version_properties(parse_aarch64_version(str(version)))
    flags = cpu.get("flags")
    return aarch64_properties(flags) if flags else {}
