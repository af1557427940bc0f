"""`x86_64` provider: psABI level and ISA extensions of the CPU, for an x86-64 interpreter."""

from __future__ import annotations

from fitwheel.runtime import cpu_namespace, x86_64_properties
from fitwheel.runtime.cpu_details import parse_x86_64_level, x86_64_level_properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def provide(facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """From `facts.cpu`: `level` (an override or a hand-written target) wins over `flags`."""
    cpu = facts.get("cpu") or {}
    if cpu_namespace(str(cpu.get("architecture"))) != "x86_64":
        return {}
    level = cpu.get("x86_64_level")
    if level:
        return x86_64_level_properties(parse_x86_64_level(str(level)))
    flags = cpu.get("flags")
    return x86_64_properties(flags) if flags else {}
