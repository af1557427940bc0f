"""Taking index options out of an installer's argument list, in every spelling it accepts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Option:
    """A command-line option: its long spellings, short letter, and whether it takes a value."""

    names: tuple[str, ...]
    short: str | None = None
    takes_value: bool = True


@dataclass
class Extracted:
    """The values found per option (in order) and the arguments left over."""

    values: dict[Option, list[str]] = field(default_factory=dict)
    flags: set[Option] = field(default_factory=set)
    rest: list[str] = field(default_factory=list)


def extract(args: Sequence[str], options: Sequence[Option]) -> Extracted:
    """Remove `options` from `args`: `--name V`, `--name=V`, `-x V`, `-xV`; stop at `--`."""
    found = Extracted()
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            found.rest.extend(args[index - 1 :])
            break
        matched = False
        for option in options:
            value: str | None = None
            name, eq, inline = arg.partition("=")
            if arg.startswith("--") and name in option.names:
                if not option.takes_value:
                    found.flags.add(option)
                    matched = True
                    break
                value = inline if eq else None
            elif option.short and arg.startswith(option.short) and option.takes_value:
                value = arg[len(option.short) :] or None
            else:
                continue
            if value is None:
                if index >= len(args):
                    break  # a dangling option: leave it for the installer to complain about
                value = args[index]
                index += 1
            found.values.setdefault(option, []).append(value)
            matched = True
            break
        if not matched:
            found.rest.append(arg)
    return found
