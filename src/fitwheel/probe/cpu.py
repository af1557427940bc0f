"""CPU facts for a profile: the raw flags and the interpreter's architecture (via fitwheel.runtime)."""

from __future__ import annotations

import os

from fitwheel.runtime import (
    cpu_family,
    cpu_namespace,
    read_cpu_flags,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fitwheel.probe.overrides import Overrides


def probe_cpu(
    architecture: str, sysroot: str = "/", overrides: Overrides | None = None
) -> dict[str, Any]:
    """The `[facts.cpu]` table: `architecture`, `flags`, and an override's level/version.

    With `FITWHEEL_X86_64_LEVEL` / `FITWHEEL_AARCH64_VERSION` set (parsed in `overrides`) for
    the interpreter's architecture the CPU is not read at all: the override describes another
    machine.
    """
    facts: dict[str, Any] = {"architecture": architecture}
    namespace = cpu_namespace(architecture)
    level = overrides.x86_64_level if overrides is not None else None
    version = overrides.aarch64_version if overrides is not None else None
    if namespace == "x86_64" and level is not None:
        facts["x86_64_level"] = f"v{level.value}"
        facts["sources"] = {"x86_64_level": level.variable}
        return facts
    if namespace == "aarch64" and version is not None:
        facts["aarch64_version"] = version.value
        facts["sources"] = {"aarch64_version": version.variable}
        return facts
    cpuinfo = os.path.join(sysroot, "proc/cpuinfo")
    flags = read_cpu_flags(sysroot)
    family = cpu_family(flags)
    expected = namespace or "x86_64"
    if not flags:
        facts["unknown"] = {"flags": f"no flags/Features in {cpuinfo}"}
    elif family != expected:
        # A --sysroot taken from another machine: its CPU cannot run this interpreter.
        facts["unknown"] = {"flags": f"{cpuinfo} describes an {family} CPU, not {architecture}"}
    else:
        facts["flags"] = sorted(flags)
    return facts
