"""PCI devices from sysfs (`sys/bus/pci/devices/*/{vendor,device,class}`), for GPU presence."""

from __future__ import annotations

import os

NVIDIA_VENDOR = 0x10DE
AMD_VENDOR = 0x1002
INTEL_VENDOR = 0x8086
DISPLAY_CLASS = 0x03  # class code 0x03xxxx: VGA, 3D and other display controllers


def pci_devices(sysroot: str = "/") -> list[dict[str, str | int]]:
    """Every PCI function: `{"address", "vendor", "device", "class"}`; [] without sysfs."""
    root = os.path.join(sysroot, "sys/bus/pci/devices")
    try:
        addresses = sorted(os.listdir(root))
    except OSError:
        return []
    devices: list[dict[str, str | int]] = []
    for address in addresses:
        vendor, device, klass = (_read_hex(os.path.join(root, address, n)) for n in _FIELDS)
        if vendor is None or device is None or klass is None:
            continue
        devices.append({"address": address, "vendor": vendor, "device": device, "class": klass})
    return devices


def display_devices(sysroot: str, vendor: int) -> list[dict[str, str | int]]:
    """The display controllers (GPUs) of one vendor."""
    return [
        device
        for device in pci_devices(sysroot)
        if device["vendor"] == vendor and int(device["class"]) >> 16 == DISPLAY_CLASS
    ]


_FIELDS = ("vendor", "device", "class")


def _read_hex(path: str) -> int | None:
    try:
        with open(path, "rb") as stream:
            return int(stream.read().strip(), 16)
    except (OSError, ValueError):
        return None
