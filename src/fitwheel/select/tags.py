"""A profile's interpreter as wheel tags (best first) and as a PEP 508 marker environment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from packaging.tags import Tag

from fitwheel.errors import InvalidProfile
from fitwheel.profile import Profile

_ABBREVIATIONS = {"cpython": "cp", "pypy": "pp", "graalpy": "graalpy", "ironpython": "ip"}


def _version(table: Mapping[str, Any], where: str) -> tuple[int, ...]:
    raw = table.get("python_version")
    if not isinstance(raw, str):
        raise InvalidProfile(f'{where}: [interpreter] needs python_version, e.g. "3.11.7"')
    try:
        return tuple(int(part) for part in raw.split("."))
    except ValueError:
        raise InvalidProfile(
            f"{where}: [interpreter] python_version {raw!r} is not X.Y[.Z]"
        ) from None


def _strings(table: Mapping[str, Any], key: str, where: str) -> list[str] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidProfile(f"{where}: [interpreter] {key} must be a list of strings")
    return [str(item) for item in value]


def profile_tags(profile: Profile) -> list[Tag]:
    """The tags the profile's interpreter accepts, most preferred first.

    Without an `[interpreter]` table, the running interpreter's (`packaging.tags.sys_tags`).
    Missing `abis`/`platforms` fall back to packaging's defaults for that version.
    """
    from packaging import tags

    table = profile.interpreter
    if table is None:
        return list(tags.sys_tags())
    where = profile.source
    version = _version(table, where)
    implementation = str(table.get("implementation", "cpython")).lower()
    abis, platforms = _strings(table, "abis", where), _strings(table, "platforms", where)
    short = version[:2]
    abbreviation = _ABBREVIATIONS.get(implementation, implementation)
    interpreter = f"{abbreviation}{short[0]}{short[1] if len(short) > 1 else ''}"
    if implementation == "cpython":
        found = list(tags.cpython_tags(short, abis, platforms))
    else:
        found = list(tags.generic_tags(interpreter, abis, platforms))
    found.extend(tags.compatible_tags(short, interpreter, platforms))
    return list(dict.fromkeys(found))


def python_full_version(profile: Profile) -> str:
    """The profile interpreter's version, for `requires-python` checks."""
    if profile.interpreter is None:
        import platform

        return platform.python_version()
    return ".".join(str(p) for p in _version(profile.interpreter, profile.source))


def marker_environment(profile: Profile) -> dict[str, str]:
    """PEP 508 marker values for the profile's interpreter (`enable-if` markers use them).

    Keys the `[interpreter]` table does not give keep the running interpreter's values.
    """
    from fitwheel.variants.markers import default_environment

    environment = default_environment()
    table = profile.interpreter
    if table is None:
        return environment
    full = python_full_version(profile)
    environment["python_full_version"] = full
    environment["python_version"] = ".".join(full.split(".")[:2])
    implementation = str(table.get("implementation", "cpython")).lower()
    environment["implementation_name"] = implementation
    environment["platform_python_implementation"] = {"cpython": "CPython", "pypy": "PyPy"}.get(
        implementation, implementation
    )
    if isinstance(table.get("architecture"), str):
        environment["platform_machine"] = table["architecture"]
    if isinstance(table.get("os"), str):
        environment["sys_platform"] = table["os"]
    return environment
