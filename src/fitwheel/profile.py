"""A target machine's profile: `[interpreter]`, `[variants]` and `[facts]`, as TOML or JSON.

`[variants.NAMESPACE]` tables list supported values per feature, most preferred first; the
order of features in a table is the feature order. `[interpreter]` describes the target
interpreter (`implementation`, `python_version`, `abis`, `platforms`, ...) and is validated
when the profile is read; a file without it stands for "the running interpreter", which only
the edge (`fitwheel.detect`) may fill in. `[facts]` holds the raw facts providers read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fitwheel.decoding import loads_json, loads_toml
from fitwheel.errors import InvalidProfile, InvalidProperty
from fitwheel.variants.support import SupportedProperties

_KNOWN_TABLES = ("interpreter", "variants", "facts")
# Three parts at most, each short: "3.1000000000" is a typo, not a Python.
_PYTHON_VERSION_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4}){1,2}")
_IMPLEMENTATION_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalVM"}
_SYSTEM_NAMES = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows", "cygwin": "CYGWIN"}


@dataclass(frozen=True)
class Interpreter:
    """The target interpreter, as an `[interpreter]` table gives it (validated).

    `abis`/`platforms` of None mean "packaging's defaults for that version"; `table` keeps
    every key of the source (`libc`, `pointer_bits`, ...) so a profile is written back as read.
    """

    implementation: str
    python_version: tuple[int, ...]
    abis: tuple[str, ...] | None = None
    platforms: tuple[str, ...] | None = None
    architecture: str | None = None
    os: str | None = None
    table: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_mapping(cls, table: Any, *, where: str) -> Interpreter:
        """Validate an `[interpreter]` table; `InvalidProfile` names the file and the key."""
        if not isinstance(table, Mapping):
            raise InvalidProfile(f"{where}: [interpreter] must be a table")
        implementation = table.get("implementation", "cpython")
        if not isinstance(implementation, str) or not implementation:
            raise InvalidProfile(f"{where}: [interpreter] implementation must be a name")
        raw = table.get("python_version")
        if not isinstance(raw, str) or not _PYTHON_VERSION_RE.fullmatch(raw):
            raise InvalidProfile(
                f'{where}: [interpreter] python_version must be X.Y or X.Y.Z (e.g. "3.11.7"), '
                f"got {raw!r}"
            )
        return cls(
            implementation=implementation.lower(),
            python_version=tuple(int(part) for part in raw.split(".")),
            abis=_strings(table, "abis", where),
            platforms=_strings(table, "platforms", where),
            architecture=_string(table, "architecture", where),
            os=_string(table, "os", where),
            table=MappingProxyType(dict(table)),
        )

    @property
    def full_version(self) -> str:
        """`3.11.7` (as written: `3.11` stays `3.11`), for `requires-python` checks."""
        return ".".join(str(part) for part in self.python_version)

    @property
    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values derived from the table (its `markers` table wins).

        Names the table cannot tell (`platform_release`, `platform_version`) are empty
        strings, so a marker on them is false rather than about the machine running fitwheel.
        """
        full = self.full_version
        system = self.os or ""
        environment = {
            "implementation_name": self.implementation,
            "implementation_version": full,
            "os_name": "nt" if system == "win32" else "posix",
            "platform_machine": self.architecture or "",
            "platform_release": "",
            "platform_system": _SYSTEM_NAMES.get(system, system.capitalize()),
            "platform_version": "",
            "python_full_version": full,
            "platform_python_implementation": _IMPLEMENTATION_NAMES.get(
                self.implementation, self.implementation
            ),
            "python_version": ".".join(full.split(".")[:2]),
            "sys_platform": system,
            "extra": "",
        }
        given = self.table.get("markers")
        if isinstance(given, Mapping):
            environment.update({str(k): str(v) for k, v in given.items()})
        return environment


def _string(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidProfile(f"{where}: [interpreter] {key} must be a string, got {value!r}")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = table.get(key)
    if value is None:
        return None
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not all(isinstance(item, str) for item in value)
    ):
        raise InvalidProfile(f"{where}: [interpreter] {key} must be a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class Profile:
    """What one target supports: the single value that carries a target through selection.

    `interpreter` is None only for a profile file read as written that leaves the interpreter
    to the edge; `provided_namespaces` are the namespaces whose properties come from
    fitwheel's providers (None: take `variants` as given, as for a hand-written table).
    """

    variants: SupportedProperties = field(default_factory=SupportedProperties)
    interpreter: Interpreter | None = None
    facts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "detected"
    provided_namespaces: frozenset[str] | None = None


def profile_from_document(
    data: Any, *, where: str, provided_namespaces: frozenset[str] | None = None
) -> Profile:
    """Read a decoded profile document (from TOML or JSON), validating every table."""
    if not isinstance(data, Mapping):
        raise InvalidProfile(f"{where}: a profile must be a table/object")
    unknown = sorted(set(data) - set(_KNOWN_TABLES) - {"$schema", "fitwheel"})
    if unknown:
        raise InvalidProfile(
            f"{where}: unknown table(s) {', '.join(unknown)}; a profile has "
            f"{', '.join('[' + t + ']' for t in _KNOWN_TABLES)}"
        )
    raw_interpreter = data.get("interpreter")
    interpreter = (
        None if raw_interpreter is None else Interpreter.from_mapping(raw_interpreter, where=where)
    )
    facts = data.get("facts", {})
    if not isinstance(facts, Mapping):
        raise InvalidProfile(f"{where}: [facts] must be a table")
    for name, table in facts.items():
        # Facts are grouped by source (`[facts.nvidia]`, `[facts.cpu]`): a bare value is a typo.
        if not isinstance(table, Mapping):
            raise InvalidProfile(
                f"{where}: [facts] {name} = {str(table)[:40]!r} must be a table "
                f"([facts.{name}] with its keys)"
            )
    try:
        variants = SupportedProperties.from_mapping(data.get("variants", {}), where=where)
    except InvalidProperty as exc:
        raise InvalidProfile(str(exc)) from None
    return Profile(
        variants=variants,
        interpreter=interpreter,
        facts=MappingProxyType(dict(facts)),
        source=where,
        provided_namespaces=provided_namespaces,
    )


def read_profile_document(path: str | Path) -> dict[str, Any]:
    """A profile file decoded (TOML, or JSON when the name ends in `.json`), not yet validated."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidProfile(f"cannot read profile {str(path)!r}: {exc.strerror}") from None
    if path.suffix == ".json":
        data = loads_json(raw, where=str(path), error=InvalidProfile)
    else:
        data = loads_toml(raw, where=str(path), error=InvalidProfile)
    if not isinstance(data, dict):
        raise InvalidProfile(f"{path}: a profile must be a table/object")
    return data


def load_profile(path: str | Path) -> Profile:
    """Read a profile file as written (no providers run, no interpreter filled in)."""
    return profile_from_document(read_profile_document(path), where=str(path))


def profile_to_document(profile: Profile) -> dict[str, Any]:
    """The document form: `{"interpreter": ..., "variants": ..., "facts": ...}`."""
    document: dict[str, Any] = {}
    if profile.interpreter is not None:
        document["interpreter"] = _plain(profile.interpreter.table)
    document["variants"] = profile.variants.to_mapping()
    document["facts"] = _plain(profile.facts)
    return document


def dump_profile_json(profile: Profile) -> str:
    return json.dumps(profile_to_document(profile), indent=2) + "\n"


def dump_profile_toml(profile: Profile) -> str:
    import tomli_w

    return tomli_w.dumps(_without_none(profile_to_document(profile)))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [_plain(v) for v in value]
    return value


def _without_none(value: Any) -> Any:
    """TOML has no null: drop None entries (an absent key means unknown)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value
