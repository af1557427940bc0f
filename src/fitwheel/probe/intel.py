"""Intel GPU facts: presence from PCI; device IP only where a Level Zero loader exists."""

from __future__ import annotations

from fitwheel.probe.libraries import find_library
from fitwheel.probe.pci import INTEL_VENDOR, display_devices

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LEVEL_ZERO = "libze_loader.so.1"


def probe_intel(sysroot: str = "/") -> dict[str, Any]:
    """The `[facts.intel]` table: `devices` (PCI) and, when known, `device_ips`."""
    devices = display_devices(sysroot, INTEL_VENDOR)
    if not devices:
        return {}
    facts: dict[str, Any] = {
        "devices": [
            {"address": d["address"], "device": f"0x{int(d['device']):04x}"} for d in devices
        ]
    }
    if sysroot != "/":
        reason = f"Level Zero is not probed with --sysroot {sysroot}"
    elif not find_library(LEVEL_ZERO):
        reason = f"no Level Zero loader ({LEVEL_ZERO}) is installed"
    else:
        reason = "querying Level Zero for the device IP is not implemented yet"
    facts["unknown"] = {"device_ips": reason}
    return facts
