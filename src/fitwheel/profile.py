"""A target machine's profile: `[interpreter]`, `[variants]` and `[facts]`, as TOML or JSON.

`[variants.NAMESPACE]` tables list supported values per feature, most preferred first; the
order of features in a table is the feature order. `[interpreter]` (optional) describes the
target interpreter (`implementation`, `python_version`, `abis`, `platforms`, ...); without it
the running interpreter is meant. `[facts]` holds the raw facts providers read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fitwheel.errors import InvalidProfile, InvalidProperty
from fitwheel.variants.support import SupportedProperties

_KNOWN_TABLES = ("interpreter", "variants", "facts")


@dataclass(frozen=True)
class Profile:
    """What one target supports."""

    variants: SupportedProperties = field(default_factory=SupportedProperties)
    interpreter: Mapping[str, Any] | None = None
    facts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "detected"


def profile_from_document(data: Any, *, where: str) -> Profile:
    """Read a decoded profile document (from TOML or JSON)."""
    if not isinstance(data, Mapping):
        raise InvalidProfile(f"{where}: a profile must be a table/object")
    unknown = sorted(set(data) - set(_KNOWN_TABLES) - {"$schema", "fitwheel"})
    if unknown:
        raise InvalidProfile(
            f"{where}: unknown table(s) {', '.join(unknown)}; a profile has "
            f"{', '.join('[' + t + ']' for t in _KNOWN_TABLES)}"
        )
    interpreter = data.get("interpreter")
    if interpreter is not None and not isinstance(interpreter, Mapping):
        raise InvalidProfile(f"{where}: [interpreter] must be a table")
    facts = data.get("facts", {})
    if not isinstance(facts, Mapping):
        raise InvalidProfile(f"{where}: [facts] must be a table")
    try:
        variants = SupportedProperties.from_mapping(data.get("variants", {}), where=where)
    except InvalidProperty as exc:
        raise InvalidProfile(str(exc)) from None
    return Profile(
        variants=variants,
        interpreter=MappingProxyType(dict(interpreter)) if interpreter is not None else None,
        facts=MappingProxyType(dict(facts)),
        source=where,
    )


def load_profile(path: str | Path) -> Profile:
    """Read a profile file: TOML, or JSON when the name ends in `.json`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidProfile(f"cannot read profile {str(path)!r}: {exc.strerror}") from None
    if path.suffix == ".json":
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidProfile(f"{path}: not valid JSON: {exc}") from None
    else:
        import tomllib

        try:
            data = tomllib.loads(raw.decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidProfile(f"{path}: not valid TOML: {exc}") from None
    return profile_from_document(data, where=str(path))


def profile_to_document(profile: Profile) -> dict[str, Any]:
    """The document form: `{"interpreter": ..., "variants": ..., "facts": ...}`."""
    document: dict[str, Any] = {}
    if profile.interpreter is not None:
        document["interpreter"] = _plain(profile.interpreter)
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
