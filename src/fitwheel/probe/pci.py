"""PCI devices from sysfs (`sys/bus/pci/devices/*/{vendor,device,class}`), for accelerator presence."""

from __future__ import annotations

import os

from fitwheel.runtime import read_pseudo_file

NVIDIA_VENDOR = 0x10DE
AMD_VENDOR = 0x1002
INTEL_VENDOR = 0x8086
GOOGLE_VENDOR = 0x1AE0
DISPLAY_CLASS = 0x03  # class code 0x03xxxx: VGA, 3D and other display controllers


def display_devices(sysroot: str, vendor: int) -> list[dict[str, str | int]]:
    """The display controllers (GPUs) of one vendor.

    Reads each device's `class` first and the rest only for display controllers: one file per
    device instead of three, on every `fitwheel detect`.
    """
    return vendor_devices(sysroot, vendor, display_only=True) or []


def vendor_devices(
    sysroot: str, vendor: int, *, display_only: bool = False
) -> list[dict[str, str | int]] | None:
    """The PCI devices of one vendor (only display controllers with `display_only`), or None
    when there is no PCI device list to read (no sysfs: another OS, a restricted container)."""
    root = os.path.join(sysroot, "sys/bus/pci/devices")
    try:
        addresses = sorted(os.listdir(root))
    except OSError:
        return None
    devices: list[dict[str, str | int]] = []
    for address in addresses:
        klass = None
        if display_only:
            klass = _read_hex(os.path.join(root, address, "class"))
            if klass is None or klass >> 16 != DISPLAY_CLASS:
                continue
        if _read_hex(os.path.join(root, address, "vendor")) != vendor:
            continue
        device = _read_hex(os.path.join(root, address, "device"))
        if device is None:
            continue
        if klass is None:
            klass = _read_hex(os.path.join(root, address, "class")) or 0
        devices.append({"address": address, "vendor": vendor, "device": device, "class": klass})
    return devices


def _read_hex(path: str) -> int | None:
    raw = read_pseudo_file(path, 64)
    try:
        return None if raw is None else int(raw.strip(), 16)
    except ValueError:
        return None
