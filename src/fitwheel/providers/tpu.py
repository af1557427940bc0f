"""`tpu` provider: whether a Google TPU is present, in the vocabulary of uv's tpu provider."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def provide(facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """`present :: true` with a TPU, `present :: false` without one (so a build made for machines
    without a TPU is selectable there, as with uv), nothing when presence is unknown."""
    tpu = facts.get("tpu") or {}
    if "present" not in tpu:
        return {}
    present = tpu["present"]
    if not isinstance(present, bool):
        raise ValueError(f"tpu.present must be true or false, not {present!r}")
    return {"present": ["true" if present else "false"]}
