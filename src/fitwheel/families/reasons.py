"""Why a member's build does not fit a target, in the words of its hardware.

The choice itself is made by the PEP 825 ranking; these sentences only restate, for a build the
ranking excluded, which of its requirements the target misses (the GPU architecture, the
driver's CUDA version, the kind of GPU).
"""

from __future__ import annotations

from fitwheel.families.builds import format_version2
from fitwheel.families.naming import MemberBuild, cuda_version, sm_value
from fitwheel.variants.support import SupportedProperties


def _capability(values: tuple[str, ...]) -> str | None:
    """The device's own compute capability: the first `NN_real` value (`61_real` -> 6.1)."""
    for value in values:
        number, _, kind = value.partition("_")
        if kind == "real" and number.isdigit() and len(number) >= 2:
            return f"{number[:-1]}.{number[-1]}"
    return None


def misfit(member: str, build: MemberBuild, supported: SupportedProperties) -> str | None:
    """Why `member`'s build cannot run on the target, or None when there is nothing to add."""
    nvidia = supported.namespaces.get("nvidia", {})
    if build.cuda is not None:
        wanted = cuda_version(member)
        if not nvidia:
            return f"{member} needs an NVIDIA GPU and driver; the target has none"
        lower = nvidia.get("cuda_version_lower_bound", ())
        if wanted is not None and format_version2(wanted) not in lower:
            driver = lower[0] if lower else "unknown"
            return (
                f"{member} needs a driver for CUDA {format_version2(wanted)} or newer; the "
                f"target's driver supports CUDA {driver}"
            )
        archs = nvidia.get("sm_arch", ())
        if not archs:
            return f"{member}: the target's GPU architecture is unknown ({build.summary})"
        values = {sm_value(a, "real") for a in build.cuda.sass} | {
            sm_value(a, "virtual") for a in build.cuda.ptx
        }
        if not values.intersection(archs):
            device = _capability(archs) or "of the target"
            return f"{member} has no kernels for sm {device} (built for {build.cuda.span()})"
        return None
    if build.gfx:
        targets = supported.namespaces.get("amd", {}).get("gfx_arch", ())
        if not targets:
            return f"{member} needs an AMD GPU; the target has none"
        if not set(build.gfx).intersection(targets):
            return (
                f"{member} has no code for {', '.join(targets)} (built for {', '.join(build.gfx)})"
            )
        return None
    intel = supported.namespaces.get("intel", {}).get("device_ip", ())
    if any(p.namespace == "intel" for p in build.description.properties):
        if not intel:
            return f"{member} needs an Intel GPU found through Level Zero; the target has none"
        return f"{member} has no code for Intel device IP {', '.join(intel)} ({build.summary})"
    return None
