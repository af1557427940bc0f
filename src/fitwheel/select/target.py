"""The target of a selection: a profile with its wheel tags and marker environment, computed once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from packaging.tags import Tag, compatible_tags, cpython_tags, generic_tags

from fitwheel.errors import InvalidProfile
from fitwheel.profile import Interpreter, Profile

_ABBREVIATIONS = {"cpython": "cp", "pypy": "pp", "graalpy": "graalpy", "ironpython": "ip"}


@dataclass(frozen=True)
class Target:
    """What every release is checked against. Build it once per profile with `Target.of`."""

    profile: Profile
    tags: tuple[Tag, ...]
    python_version: str
    environment: Mapping[str, str]
    tag_positions: Mapping[Tag, int] = field(compare=False, repr=False)

    @classmethod
    def of(cls, profile: Profile) -> Target:
        """The target for `profile`; its `[interpreter]` must be known (the edge fills it in)."""
        interpreter = profile.interpreter
        if interpreter is None:
            raise InvalidProfile(
                f"{profile.source}: no [interpreter] table, so the target interpreter is "
                "unknown; read the profile through fitwheel.detect (which fills in the running "
                "interpreter) or capture one with `fitwheel profile capture`"
            )
        found = interpreter_tags(interpreter)
        return cls(
            profile=profile,
            tags=found,
            python_version=interpreter.full_version,
            environment=MappingProxyType(interpreter.marker_environment),
            tag_positions=MappingProxyType({tag: i for i, tag in enumerate(found)}),
        )


def interpreter_tags(interpreter: Interpreter) -> tuple[Tag, ...]:
    """The tags the interpreter accepts, most preferred first, in `packaging.tags` order.

    Missing `abis`/`platforms` fall back to packaging's defaults for that version.
    """
    short = interpreter.python_version[:2]
    abbreviation = _ABBREVIATIONS.get(interpreter.implementation, interpreter.implementation)
    name = f"{abbreviation}{short[0]}{short[1] if len(short) > 1 else ''}"
    abis, platforms = interpreter.abis, interpreter.platforms
    if interpreter.implementation == "cpython":
        found = list(cpython_tags(short, abis, platforms))
    else:
        found = list(generic_tags(name, abis, platforms))
    found.extend(compatible_tags(short, name, platforms))
    return tuple(dict.fromkeys(found))
