"""The installer's environment beside fitwheel's proxy."""

from __future__ import annotations

from collections.abc import Mapping

LOOPBACK = "127.0.0.1,localhost"
"""Added to the installer's NO_PROXY: the proxy fitwheel runs is on this machine."""


def loopback_exempt(env: Mapping[str, str]) -> dict[str, str]:
    """`no_proxy` / `NO_PROXY` with this machine added: an installer reaches fitwheel's proxy
    directly, whatever proxy it uses for the rest."""
    current = env.get("no_proxy") or env.get("NO_PROXY") or ""
    value = f"{current},{LOOPBACK}" if current else LOOPBACK
    return {"no_proxy": value, "NO_PROXY": value}
