"""CPU facts for a profile: the raw flags and the interpreter's architecture (via fitwheel.runtime)."""

from __future__ import annotations

import os

from fitwheel.runtime import (
    AARCH64_VERSION_ENV,
    X86_64_LEVEL_ENV,
    cpu_family,
    cpu_namespace,
    read_cpu_flags,
)
from fitwheel.runtime.cpu_details import parse_aarch64_version, parse_x86_64_level

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def probe_cpu(
    architecture: str, sysroot: str = "/", environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The `[facts.cpu]` table: `architecture`, `flags`, and an override's level/version.

    With `FITWHEEL_X86_64_LEVEL` / `FITWHEEL_AARCH64_VERSION` set for the interpreter's
    architecture the CPU is not read at all: the override describes another machine.
    """
    env = os.environ if environ is None else environ
    facts: dict[str, Any] = {"architecture": architecture}
    namespace = cpu_namespace(architecture)
    if namespace == "x86_64" and env.get(X86_64_LEVEL_ENV, ""):
        level = parse_x86_64_level(env[X86_64_LEVEL_ENV])
        facts["x86_64_level"] = f"v{level}"
        facts["sources"] = {"x86_64_level": X86_64_LEVEL_ENV}
        return facts
    if namespace == "aarch64" and env.get(AARCH64_VERSION_ENV, ""):
        facts["aarch64_version"] = parse_aarch64_version(env[AARCH64_VERSION_ENV])
        facts["sources"] = {"aarch64_version": AARCH64_VERSION_ENV}
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
