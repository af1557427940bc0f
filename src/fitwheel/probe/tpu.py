"""Google TPU facts: chips on PCI (vendor 0x1ae0), or an override saying whether one is present."""

from __future__ import annotations

from fitwheel.probe.pci import GOOGLE_VENDOR, vendor_devices

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fitwheel.probe.overrides import Override

PRESENT_ENV = "FITWHEEL_TPU_PRESENT"
# uv's tpu provider override: present when the value, lower-cased, is one of these (measured with
# uv 0.13.9, docs/uv-interop.md: `True` and `YES` count, ` 1` and `y` do not).
UV_PRESENT_ENV = "TPU_VARIANT_PROVIDER_FORCE_PRESENT"
_UV_TRUE = frozenset({"1", "true", "yes"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

# Google's PCI device ids of TPU chips (as the TPU runtimes list them), with the generation.
TPU_DEVICE_IDS = {
    0x0027: "v2/v3",
    0x0056: "unnamed",
    0x005E: "v4",
    0x0062: "v5p",
    0x0063: "v5e",
    0x006F: "v6e",
}


def parse_present(value: str) -> bool:
    """`FITWHEEL_TPU_PRESENT`: `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`; else ValueError."""
    text = value.strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"invalid value {value!r}: expected true or false (or 1/0, yes/no, on/off)")


def parse_uv_present(value: str) -> bool:
    """uv's `TPU_VARIANT_PROVIDER_FORCE_PRESENT`, read as uv reads it (never an error)."""
    return value.lower() in _UV_TRUE


def probe_tpu(sysroot: str = "/", present: Override | None = None) -> dict[str, Any]:
    """The `[facts.tpu]` table: `present`, and the chips found (`devices`).

    `present` is the parsed override (`FITWHEEL_TPU_PRESENT`, else uv's
    `TPU_VARIANT_PROVIDER_FORCE_PRESENT`). Without a PCI device list (no sysfs) presence is
    unknown, not false.
    """
    if present is not None:
        return {"present": present.value, "sources": {"present": present.variable}}
    found = vendor_devices(sysroot, GOOGLE_VENDOR)
    if found is None:
        return {"unknown": {"present": f"no PCI device list under {sysroot}"}}
    chips = [
        {
            "address": str(device["address"]),
            "device": f"0x{int(device['device']):04x}",
            "generation": TPU_DEVICE_IDS[int(device["device"])],
        }
        for device in found
        if int(device["device"]) in TPU_DEVICE_IDS
    ]
    facts: dict[str, Any] = {"present": bool(chips)}
    if chips:
        facts["devices"] = chips
    return facts
