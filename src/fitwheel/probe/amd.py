"""AMD facts: gfx architectures from the KFD topology in sysfs (no ROCm needed), ROCm version."""

from __future__ import annotations

import os

from fitwheel.runtime import read_pseudo_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from fitwheel.probe.overrides import Override

GFX_ENV = "FITWHEEL_AMD_GFX"
_TOPOLOGY = "sys/class/kfd/kfd/topology/nodes"
_PROPERTIES_LIMIT = 1 << 16
_VISIBLE_ENVS = ("ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES")


def gfx_name(target_version: int) -> str:
    """`gfx_target_version` -> name: 90010 -> gfx90a, 90402 -> gfx942, 110000 -> gfx1100."""
    major, minor, stepping = (
        target_version // 10000,
        target_version // 100 % 100,
        target_version % 100,
    )
    return f"gfx{major}{minor}{stepping:x}"


def parse_gfx_list(value: str) -> list[str]:
    """`gfx942` or `gfx90a,gfx1100` -> names; ValueError for anything else."""
    names = [item.strip().lower() for item in value.split(",")]
    for name in names:
        rest = name.removeprefix("gfx")
        if rest == name or not rest or not all(c in "0123456789abcdef" for c in rest):
            raise ValueError(f"invalid AMD GPU architecture {name!r}: expected e.g. gfx942")
    return names


def probe_amd(
    sysroot: str = "/",
    environ: Mapping[str, str] | None = None,
    gfx_archs: Override | None = None,
) -> dict[str, Any]:
    """The `[facts.amd]` table: `gfx_archs` (one per visible GPU node, or the parsed override)
    and `rocm_version`."""
    env = os.environ if environ is None else environ
    facts: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    if gfx_archs is not None:
        facts["gfx_archs"] = gfx_archs.value
        facts["sources"] = {"gfx_archs": gfx_archs.variable}
    else:
        archs, reason = _topology_archs(sysroot)
        if archs is None:
            if reason:
                unknown["gfx_archs"] = reason
        else:
            facts["gfx_archs"] = _visible(archs, env)
    rocm = _rocm_version(sysroot, env)
    if rocm:
        facts["rocm_version"] = rocm
    if unknown:
        facts["unknown"] = unknown
    return facts


def _topology_archs(sysroot: str) -> tuple[list[str] | None, str | None]:
    root = os.path.join(sysroot, _TOPOLOGY)
    try:
        nodes = sorted((n for n in os.listdir(root) if n.isdigit()), key=int)
    except OSError:
        return None, None  # no amdgpu/KFD driver: nothing AMD to report
    archs = []
    for node in nodes:
        raw = read_pseudo_file(os.path.join(root, node, "properties"), _PROPERTIES_LIMIT)
        if raw is None:
            continue
        for line in raw.decode("ascii", "replace").splitlines():
            key, _, value = line.partition(" ")
            # At most 9 digits: `major * 10000 + ...`; more is not a version (and int() of
            # thousands of digits raises).
            if key == "gfx_target_version" and value.strip().isdigit() and len(value.strip()) <= 9:
                version = int(value)
                if version:  # CPU nodes report 0
                    archs.append(gfx_name(version))
    return archs, None


def _visible(archs: list[str], env: Mapping[str, str]) -> list[str]:
    for name in _VISIBLE_ENVS:
        value = env.get(name)
        if value is None:
            continue
        chosen = []
        for entry in value.split(","):
            entry = entry.strip()
            if not entry.isdigit() or int(entry) >= len(archs):
                break
            chosen.append(archs[int(entry)])
        archs = chosen
    return archs


def _rocm_version(sysroot: str, env: Mapping[str, str]) -> str | None:
    roots = [env.get("ROCM_PATH", ""), "/opt/rocm"]
    for root in roots:
        if not root:
            continue
        path = os.path.join(sysroot, root.lstrip("/"), ".info", "version")
        raw = read_pseudo_file(path, _PROPERTIES_LIMIT)
        if raw is None:
            continue
        parts = raw.decode("ascii", "replace").strip().split("-")[0].split(".")
        if len(parts) >= 2 and all(p.isdigit() and len(p) <= 3 for p in parts[:2]):
            return f"{int(parts[0])}.{int(parts[1])}"
    return None
