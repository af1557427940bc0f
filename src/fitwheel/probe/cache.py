"""Disk cache for slow driver facts, valid only while its key (boot, driver, files, devices) holds.

One small JSON file per fact source, `{"key": ..., "facts": ...}`. The key is compared whole, not
hashed (hashlib's import costs more than the comparison), so a hit is one file read.
"""

from __future__ import annotations

import os
import sys

from fitwheel.runtime import read_pseudo_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CACHE_DIR_ENV = "FITWHEEL_CACHE_DIR"
_FORMAT = 1
_CACHE_FILE_LIMIT = 1 << 20
"""A cache entry is a few hundred bytes; anything bigger is not one fitwheel wrote."""


def cache_dir(environ: dict[str, str] | None = None) -> str:
    """`FITWHEEL_CACHE_DIR`, else the platform's user cache folder + `fitwheel`."""
    env = os.environ if environ is None else environ
    explicit = env.get(CACHE_DIR_ENV, "")
    if explicit:
        return explicit
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "fitwheel")
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, "fitwheel", "Cache")
    base = env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return os.path.join(base, "fitwheel")


def boot_id(sysroot: str = "/") -> str | None:
    """Linux's per-boot random id: a reboot (new driver state, new devices) changes it."""
    raw = read_pseudo_file(os.path.join(sysroot, "proc/sys/kernel/random/boot_id"), 256)
    return raw.decode("ascii", "replace").strip() or None if raw else None


def load(name: str, key: Any, directory: str) -> dict[str, Any] | None:
    """The facts stored under `name` if they were stored with exactly `key`; else None."""
    import json

    from fitwheel.decoding import loads_json
    from fitwheel.errors import FitwheelError

    try:
        with open(os.path.join(directory, f"{name}.json"), "rb") as stream:
            document = loads_json(stream.read(_CACHE_FILE_LIMIT), where=name, error=FitwheelError)
    except (OSError, FitwheelError):
        return None
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        return None
    if document.get("key") != json.loads(json.dumps(key)):
        return None
    facts = document.get("facts")
    return facts if isinstance(facts, dict) else None


def store(name: str, key: Any, facts: dict[str, Any], directory: str) -> None:
    """Write atomically (rename), so a concurrent reader sees the old or the new file, never half."""
    import json

    from fitwheel.files import write_atomically

    try:
        os.makedirs(directory, exist_ok=True)
        document = {"format": _FORMAT, "key": key, "facts": facts}
        write_atomically(os.path.join(directory, f"{name}.json"), json.dumps(document).encode())
    except OSError:
        pass  # a read-only home only costs the next run a fresh probe
