"""`intel` provider: the device IP versions of Intel GPUs (from Level Zero)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def provide(facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """From `facts.intel.device_ips` (["12.55.8"]); presence alone (PCI) offers nothing."""
    intel = facts.get("intel") or {}
    ips = [str(ip) for ip in intel.get("device_ips") or ()]
    return {"device_ip": list(dict.fromkeys(ips))} if ips else {}
