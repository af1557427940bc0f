"""PCI devices from sysfs (`sys/bus/pci/devices/*/{vendor,device,class}`), for GPU presence."""

from __future__ import annotations

import os

NVIDIA_VENDOR = 0x10DE
AMD_VENDOR = 0x1002
INTEL_VENDOR = 0x8086
DISPLAY_CLASS = 0x03  # class code 0x03xxxx: VGA, 3D and other display controllers


def display_devices(sysroot: str, vendor: int) -> list[dict[str, str | int]]:
    """The display controllers (GPUs) of one vendor.

    Reads each device's `class` first and the rest only for display controllers: one file per
    device instead of three, on every `fitwheel detect`.
    """
    root = os.path.join(sysroot, "sys/bus/pci/devices")
    try:
        addresses = sorted(os.listdir(root))
    except OSError:
        return []
    devices: list[dict[str, str | int]] = []
    for address in addresses:
        klass = _read_hex(os.path.join(root, address, "class"))
        if klass is None or klass >> 16 != DISPLAY_CLASS:
            continue
        found = _read_hex(os.path.join(root, address, "vendor"))
        device = _read_hex(os.path.join(root, address, "device"))
        if found == vendor and device is not None:
            devices.append({"address": address, "vendor": found, "device": device, "class": klass})
    return devices


def _read_hex(path: str) -> int | None:
    try:
        with open(path, "rb") as stream:
            return int(stream.read().strip(), 16)
    except (OSError, ValueError):
        return None
