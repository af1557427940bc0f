"""The override variables (`FITWHEEL_CUDA_DRIVER=12.8`, ...), parsed once, before any probe runs.

Detection reads them with `read_overrides`, which is the one place a malformed value becomes an
error (naming the variable); the probes receive the parsed `Overrides` and so never raise. An
empty variable counts as unset. Where both fitwheel's and uv's variable are set, fitwheel's wins.
"""

from __future__ import annotations

from fitwheel.errors import InvalidOverride
from fitwheel.probe.amd import GFX_ENV, parse_gfx_list
from fitwheel.probe.nvidia import (
    ARCH_ENVS,
    DRIVER_ENVS,
    parse_compute_capabilities,
    parse_cuda_version,
)
from fitwheel.probe.tpu import PRESENT_ENV, UV_PRESENT_ENV, parse_present, parse_uv_present
from fitwheel.runtime import AARCH64_VERSION_ENV, X86_64_LEVEL_ENV
from fitwheel.runtime.cpu_details import parse_aarch64_version, parse_x86_64_level

# Plain classes, not dataclasses: this runs on every `fitwheel detect`, and `dataclasses`
# (with `inspect` and `re`) would cost more than the whole probe.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


class Override:
    """A parsed override (immutable) and the variable it came from (shown as the fact's source)."""

    __slots__ = ("value", "variable")
    value: Any
    variable: str

    def __init__(self, value: Any, variable: str) -> None:
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "variable", variable)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Override) and (self.value, self.variable) == (
            other.value,
            other.variable,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Override({self.value!r}, {self.variable!r})"


_FIELDS = (
    "x86_64_level",
    "aarch64_version",
    "cuda_driver_version",
    "compute_capabilities",
    "gfx_archs",
    "tpu_present",
)


class Overrides:
    """Every override detection honours (immutable); None where the variable is unset."""

    __slots__ = _FIELDS
    x86_64_level: Override | None
    aarch64_version: Override | None
    cuda_driver_version: Override | None
    compute_capabilities: Override | None
    gfx_archs: Override | None
    tpu_present: Override | None

    def __init__(self, **given: Override | None) -> None:
        unknown = set(given) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown override(s): {', '.join(sorted(unknown))}")
        for name in _FIELDS:
            object.__setattr__(self, name, given.get(name))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Overrides) and all(
            getattr(self, n) == getattr(other, n) for n in _FIELDS
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _FIELDS if getattr(self, n))
        return f"Overrides({shown})"


def read_overrides(environ: Mapping[str, str]) -> Overrides:
    """Parse the override variables in `environ`; `InvalidOverride` names a malformed one."""
    return Overrides(
        x86_64_level=_first(environ, (X86_64_LEVEL_ENV,), parse_x86_64_level),
        aarch64_version=_first(environ, (AARCH64_VERSION_ENV,), parse_aarch64_version),
        cuda_driver_version=_first(environ, DRIVER_ENVS, parse_cuda_version),
        compute_capabilities=_first(environ, ARCH_ENVS, parse_compute_capabilities),
        gfx_archs=_first(environ, (GFX_ENV,), parse_gfx_list),
        tpu_present=_first(environ, (PRESENT_ENV,), parse_present)
        or _first(environ, (UV_PRESENT_ENV,), parse_uv_present),
    )


def _first(
    environ: Mapping[str, str], names: tuple[str, ...], parse: Callable[[str], object]
) -> Override | None:
    for name in names:
        value = environ.get(name, "")
        if not value.strip():
            continue
        try:
            return Override(parse(value), name)
        except ValueError as exc:
            raise InvalidOverride(f"{name}: {exc}; unset it or leave it empty") from None
    return None
