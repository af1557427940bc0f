"""The machines a lock is made for: profiles, re-aimed at other Pythons or platforms.

`--python-version` and `--platform` turn each profile (or this machine) into targets with the
same variant support and another interpreter: the `[interpreter]` table is rewritten and read
again, so the result is validated exactly as a profile file would be. A platform tag names the
architecture and operating system the target's markers see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from fitwheel.errors import InvalidProfile
from fitwheel.lock.resolve import LockTarget
from fitwheel.profile import Interpreter

_PLATFORMS = (
    (
        re.compile(r"(?:manylinux_\d+_\d+|manylinux\d+|musllinux_\d+_\d+|linux)_(?P<arch>\w+)"),
        "linux",
    ),
    (re.compile(r"macosx_\d+_\d+_(?P<arch>\w+)"), "darwin"),
    (re.compile(r"win_(?P<arch>\w+)"), "win32"),
)
_WINDOWS_MACHINES = {"amd64": "AMD64", "arm64": "ARM64"}


def platform_system(tag: str) -> tuple[str, str]:
    """(os, architecture) of a wheel platform tag, as `sys.platform` and `platform.machine()`
    on that system would give them."""
    if tag == "win32":
        return "win32", "x86"
    for pattern, system in _PLATFORMS:
        match = pattern.fullmatch(tag)
        if match:
            arch = match["arch"]
            return system, _WINDOWS_MACHINES.get(arch, arch) if system == "win32" else arch
    raise InvalidProfile(
        f"--platform {tag!r}: not a platform tag fitwheel can place (manylinux_X_Y_ARCH, "
        "musllinux_X_Y_ARCH, linux_ARCH, macosx_X_Y_ARCH, win_ARCH, win32)"
    )


def retarget(
    target: LockTarget, python_version: str | None, platforms: Sequence[str]
) -> LockTarget:
    """`target` with another Python version and/or platform tags (most preferred first)."""
    interpreter = target.profile.interpreter
    if interpreter is None or (python_version is None and not platforms):
        return target
    # Given markers describe the old interpreter; so do its ABIs when the version changes.
    table = {k: v for k, v in interpreter.table.items() if k != "markers"}
    names = []
    if python_version is not None:
        table.pop("abis", None)
        table["python_version"] = python_version
        names.append(f"python {python_version}")
    if platforms:
        table["os"], table["architecture"] = platform_system(platforms[0])
        table["platforms"] = list(platforms)
        names.append(platforms[0])
    where = f"{target.name} ({', '.join(names)})"
    changed = Interpreter.from_mapping(table, where=where)
    return LockTarget(where, replace(target.profile, interpreter=changed))


def expand(
    targets: Sequence[LockTarget], python_versions: Sequence[str], platforms: Sequence[str]
) -> list[LockTarget]:
    """Every target once per Python version (its own when none is given), on `platforms`."""
    versions: list[str | None] = [*python_versions] or [None]
    return [retarget(target, version, platforms) for target in targets for version in versions]
