"""`nvidia` provider: which CUDA builds the driver can run, and which GPU code the devices can run.

Vocabulary and value order follow the published NVIDIA provider, so real variant wheels select
the same way: `cuda_version_lower_bound` lists every version up to the driver's CUDA version,
`cuda_version_upper_bound` every version above it, and `sm_arch` the `{major}{minor}_real`
(SASS) and `{major}{minor}_virtual` (PTX) targets the device can run.

Several GPUs: a wheel has to run on every visible device, so `sm_arch` describes the least
capable one (lowest compute capability). Hide the older device with `CUDA_VISIBLE_DEVICES` to
get builds for the newer one only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

# Same ranges as the published provider (CUDA 11.0 - 15.20).
_MAJORS = range(11, 16)
_MINORS = range(21)
_LOWEST_SM_MAJOR = 5


def provide(facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """From `facts.nvidia`: `cuda_driver_version` ("12.8") and `compute_capabilities` (["8.6"]).

    No namespace when the device list is known to be empty; bounds only when the devices are
    unknown (a driver override on a machine without a GPU); `sm_arch` only when the driver is.
    """
    nvidia = facts.get("nvidia") or {}
    capabilities = nvidia.get("compute_capabilities")
    if capabilities is not None and not list(capabilities):
        return {}
    properties: dict[str, list[str]] = {}
    driver = parse_version(nvidia.get("cuda_driver_version"))
    if driver is not None:
        properties["cuda_version_lower_bound"] = lower_bounds(driver)
        upper = upper_bounds(driver)
        if upper:
            properties["cuda_version_upper_bound"] = upper
    if capabilities:
        lowest = min(_capabilities(capabilities))
        properties["sm_arch"] = sm_archs(lowest)
    return properties


def parse_version(value: object) -> tuple[int, int] | None:
    """ "12.8" -> (12, 8); "12" -> (12, 0); None or malformed -> None."""
    if value is None:
        return None
    major, _, minor = str(value).strip().partition(".")
    minor = minor.partition(".")[0] or "0"
    # Two digits each at most: lower_bounds lists every version below, so this bounds its work.
    if major.isdigit() and minor.isdigit() and len(major) <= 2 and len(minor) <= 2:
        return int(major), int(minor)
    return None


def _capabilities(values: Iterable[object]) -> list[tuple[int, int]]:
    parsed = []
    for value in values:
        capability = parse_version(value)
        if capability is None:
            raise ValueError(f"invalid compute capability {value!r}: expected MAJOR.MINOR")
        parsed.append(capability)
    return parsed


def lower_bounds(driver: tuple[int, int]) -> list[str]:
    """Every version the driver can run: `12.8` ... `12.0`, `12`, `11.20` ... `11.0`, `11`."""
    major, minor = driver
    values: list[str] = []
    for candidate in range(major, _MAJORS.start - 1, -1):
        top = minor if candidate == major else _MINORS.stop - 1
        values.extend(f"{candidate}.{m}" for m in range(top, -1, -1))
        values.append(str(candidate))
    return values


def upper_bounds(driver: tuple[int, int]) -> list[str]:
    """Every version above the driver's: `15.20` ... `15`, ..., `12.20` ... `12.9` (for 12.8)."""
    major, minor = driver
    values: list[str] = []
    for candidate in range(_MAJORS.stop - 1, major - 1, -1):
        if candidate > major:
            values.extend(f"{candidate}.{m}" for m in range(_MINORS.stop - 1, -1, -1))
            values.append(str(candidate))
        else:
            values.extend(f"{candidate}.{m}" for m in range(_MINORS.stop - 1, minor, -1))
    return values


def sm_archs(capability: tuple[int, int]) -> list[str]:
    """What a device of `capability` runs, most specific first.

    SASS (`_real`) runs only within its major version on a device of equal or higher minor: 8.6
    runs `86_real` ... `80_real`, not `75_real`. PTX (`_virtual`) is JIT-compiled for any device
    at least as capable: 8.6 runs `86_virtual` ... `50_virtual`.
    """
    major, minor = capability
    real = [f"{major}{m}_real" for m in range(minor, -1, -1)]
    virtual = [
        f"{candidate}{m}_virtual"
        for candidate in range(major, _LOWEST_SM_MAJOR - 1, -1)
        for m in range(minor if candidate == major else 9, -1, -1)
    ]
    return real + virtual
