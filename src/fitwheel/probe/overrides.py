"""The override variables (`FITWHEEL_CUDA_DRIVER=12.8`, ...), parsed once, before any probe runs.

Detection reads them with `read_overrides`, which is the one place a malformed value becomes an
error (naming the variable); the probes receive the parsed `Overrides` and so never raise. An
empty variable counts as unset. Where both fitwheel's and uv's variable are set, fitwheel's wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

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

T = TypeVar("T")


@dataclass(frozen=True)
class Override(Generic[T]):
    """A parsed override and the variable it came from (shown as the fact's source)."""

    value: T
    variable: str


@dataclass(frozen=True)
class Overrides:
    """Every override detection honours; None where the variable is unset."""

    x86_64_level: Override[int] | None = None
    aarch64_version: Override[str] | None = None
    cuda_driver_version: Override[str] | None = None
    compute_capabilities: Override[list[str]] | None = None
    gfx_archs: Override[list[str]] | None = None
    tpu_present: Override[bool] | None = None


NO_OVERRIDES = Overrides()


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
    environ: Mapping[str, str], names: tuple[str, ...], parse: Callable[[str], T]
) -> Override[T] | None:
    for name in names:
        value = environ.get(name, "")
        if not value.strip():
            continue
        try:
            return Override(parse(value), name)
        except ValueError as exc:
            raise InvalidOverride(f"{name}: {exc}; unset it or leave it empty") from None
    return None
