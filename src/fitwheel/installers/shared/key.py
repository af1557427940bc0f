"""What a shared proxy serves, as one key: a different key is a different proxy (and port).

The key is computed on every wrapper run, before anything is detected, so it is made of the
*inputs* of what the proxy serves, all cheap to read: fitwheel's version, the upstreams in
order, how it reaches them (proxy, certificates, keyring: `NetworkOptions`), the
index-family specs (and the content of those that are files), the profile file's
path and content when one is given, and otherwise what detection depends on: fitwheel's
override variables (every `FITWHEEL_*`, `NV_VARIANT_PROVIDER_*`, `TPU_VARIANT_PROVIDER_*`),
`CUDA_VISIBLE_DEVICES`, `LD_LIBRARY_PATH`, the boot id, the NVIDIA kernel driver's version
and the interpreter's file. A change to any of them (a new profile, a driver upgrade, a reboot)
gives a new key, so a proxy never serves a profile other than the one its key names.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence

from fitwheel._version import __version__
from fitwheel.probe.cache import boot_id
from fitwheel.probe.nvidia import kernel_driver_version

WRAPPER_VARIABLES = frozenset(
    {"FITWHEEL_CACHE_DIR", "FITWHEEL_EPHEMERAL", "FITWHEEL_PROXY_IDLE_EXIT"}
)
"""fitwheel variables that change how a wrapper runs, not what its proxy serves."""
_MACHINE_PREFIXES = ("FITWHEEL_", "NV_VARIANT_PROVIDER_", "TPU_VARIANT_PROVIDER_")
_MACHINE_VARIABLES = ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
_FILE_LIMIT = 1 << 20
"""A profile or family file is a few KiB; beyond this only its size and time are hashed."""


def _file(path: str) -> list[object]:
    """A file as key material: where it is, and a hash of its content (or why there is none)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(_FILE_LIMIT + 1)
            if len(data) > _FILE_LIMIT:
                status = os.fstat(stream.fileno())
                return [os.path.realpath(path), status.st_size, status.st_mtime_ns]
    except OSError as exc:
        return [path, exc.strerror]
    return [os.path.realpath(path), hashlib.sha256(data).hexdigest()]


def _interpreter() -> list[object]:
    real = os.path.realpath(sys.executable)
    try:
        status = os.stat(real)
    except OSError:
        return [real]
    return [real, status.st_size, status.st_mtime_ns]


def proxy_key(
    upstreams: Sequence[str],
    profile: str | None,
    families: Sequence[str],
    default_families: Sequence[str],
    env: Mapping[str, str],
    network: Mapping[str, object] | None = None,
) -> str:
    """The key of the proxy a wrapper run needs (hex)."""
    profile = profile or env.get("FITWHEEL_PROFILE") or None
    variables = {
        name: value
        for name, value in env.items()
        if (name.startswith(_MACHINE_PREFIXES) and name not in WRAPPER_VARIABLES)
        or name in _MACHINE_VARIABLES
    }
    specs = [*families, *env.get("FITWHEEL_INDEX_FAMILIES", "").replace(",", " ").split()]
    material = {
        "fitwheel": __version__,
        "upstreams": list(upstreams),
        "network": network,
        "families": [list(families), list(default_families)],
        "family_files": [
            _file(n) for n in (s.partition("=")[0] for s in specs) if n.endswith(".toml")
        ],
        "profile": _file(profile) if profile else None,
        "variables": variables,
        "machine": [boot_id(), kernel_driver_version("/"), _interpreter()],
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def stable_port(key: str, uid: int) -> int:
    """The port this user's proxy for `key` asks for first: the same on every start, so the
    installers' caches (keyed by index URL) hit; in 15000-31999, below Linux's ephemeral range."""
    digest = hashlib.sha256(f"{uid}:{key}".encode()).digest()
    return 15000 + int.from_bytes(digest[:4], "big") % 17000
