"""`amd` provider: the GPUs' gfx architectures and the installed ROCm version.

gfx targets are not ordered by capability (code for gfx90a does not run on gfx942), so with
several GPUs every distinct architecture is offered, the first device's first; a wheel built for
any of them runs on that device. `HIP_VISIBLE_DEVICES` narrows what was probed.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def provide(facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """From `facts.amd`: `gfx_archs` (["gfx942"]) and `rocm_version` ("6.2")."""
    amd = facts.get("amd") or {}
    archs = [str(arch) for arch in amd.get("gfx_archs") or ()]
    if not archs:
        return {}
    properties = {"gfx_arch": list(dict.fromkeys(archs))}
    rocm = _major_minor(amd.get("rocm_version"))
    if rocm is not None:
        # ROCm keeps compatibility within a major version: 6.2 runs 6.2, 6.1 and 6.0 builds.
        major, minor = rocm
        properties["rocm_version"] = [f"{major}.{m}" for m in range(minor, -1, -1)]
    return properties


def _major_minor(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    parts = str(value).split(".")
    # Three digits each at most: every minor down to 0 is listed, so this bounds the list.
    if len(parts) >= 2 and all(p.isdigit() and len(p) <= 3 for p in parts[:2]):
        return int(parts[0]), int(parts[1])
    return None
