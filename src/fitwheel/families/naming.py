"""A member's builds as variant properties, derived from its name and the build table.

`cuXYZ` -> CUDA X.Y (`cu126` -> 12.6, `cu132` -> 13.2: no code change for a new CUDA version):
`nvidia :: cuda_version_lower_bound :: X.Y` (the driver must support CUDA X.Y or newer) and
`nvidia :: sm_arch` = the build's architectures as `NN_real` (SASS) and `NN_virtual` (PTX).
`rocmX.Y` -> `amd :: gfx_arch` = the build's gfx targets. `xpu` -> `intel :: device_ip`.
`cpu` -> no property: it fits every machine and ranks after every fitting GPU build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fitwheel.errors import InvalidFamily
from fitwheel.families.builds import BuildTable, CudaBuild, Version2, format_version2
from fitwheel.families.model import PRIORITY_FEATURE, PRIORITY_NAMESPACE
from fitwheel.variants.properties import VariantDescription, VariantProperty

_CUDA_RE = re.compile(r"cu(?P<digits>\d{2,4})")
_ROCM_RE = re.compile(r"rocm(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)?")
CPU = "cpu"
XPU = "xpu"


@dataclass(frozen=True)
class MemberBuild:
    """What a member's build of one release requires, in words and as properties."""

    description: VariantDescription
    summary: str
    """`CUDA 12.8, sm 7.0-12.0`: what the build was made for."""
    cuda: CudaBuild | None = None
    gfx: tuple[str, ...] = ()
    note: str | None = None


def cuda_version(name: str) -> Version2 | None:
    """`cu126` -> (12, 6); the last digit is the minor version, as PyTorch names builds."""
    match = _CUDA_RE.fullmatch(name)
    if match is None:
        return None
    digits = match["digits"]
    return int(digits[:-1]), int(digits[-1])


def rocm_version(name: str) -> Version2 | None:
    match = _ROCM_RE.fullmatch(name)
    return (int(match["major"]), int(match["minor"])) if match else None


def is_derivable(name: str) -> bool:
    """Whether a member of this name gets its properties from the build table."""
    return name in (CPU, XPU) or cuda_version(name) is not None or rocm_version(name) is not None


def sm_value(capability: Version2, kind: str) -> str:
    """(8, 6) -> `86_real` / `86_virtual`, the `nvidia` provider's spelling."""
    return f"{capability[0]}{capability[1]}_{kind}"


def member_build(name: str, table: BuildTable, anchor: Version2, anchor_name: str) -> MemberBuild:
    """The build `name` carries for anchor release `anchor` (the closest listed, with a note)."""
    if name == CPU:
        return MemberBuild(VariantDescription(), "CPU only")
    priority = VariantProperty(PRIORITY_NAMESPACE, PRIORITY_FEATURE, name)
    if name == XPU:
        properties = [VariantProperty("intel", "device_ip", ip) for ip in table.xpu_device_ips]
        return MemberBuild(
            VariantDescription(frozenset([*properties, priority])),
            f"Intel GPUs with device IP {', '.join(table.xpu_device_ips)}",
        )
    cuda = cuda_version(name)
    if cuda is not None:
        found = table.cuda(anchor, anchor_name, cuda)
        if found is None:
            raise InvalidFamily(f"member {name!r}: the build table lists no CUDA build")
        build = found.value
        values = [sm_value(a, "real") for a in build.sass] + [
            sm_value(a, "virtual") for a in build.ptx
        ]
        properties = [
            VariantProperty("nvidia", "cuda_version_lower_bound", format_version2(cuda)),
            *(VariantProperty("nvidia", "sm_arch", v) for v in values),
            priority,
        ]
        return MemberBuild(
            VariantDescription(frozenset(properties)),
            f"CUDA {format_version2(cuda)}, sm {build.span()}",
            cuda=build,
            note=found.note,
        )
    rocm = rocm_version(name)
    if rocm is not None:
        targets_found = table.rocm(anchor, anchor_name, rocm)
        if targets_found is None:
            raise InvalidFamily(f"member {name!r}: the build table lists no ROCm build")
        targets = targets_found.value
        properties = [VariantProperty("amd", "gfx_arch", t) for t in targets] + [priority]
        return MemberBuild(
            VariantDescription(frozenset(properties)),
            f"ROCm {format_version2(rocm)}, {', '.join(targets)}",
            gfx=targets,
            note=targets_found.note,
        )
    raise InvalidFamily(
        f"member {name!r}: no properties are declared for it and its name is not one the "
        "build table understands (cuXYZ, rocmX.Y, xpu, cpu); declare its properties in a "
        "family file"
    )
