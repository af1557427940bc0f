"""What each build of a family contains: GPU architectures per torch release and member.

A `BuildTable` is read from a family file (the built-in one is `pytorch.toml`): for each anchor
release (`2.9`), the CUDA versions with their SASS and PTX architectures and the ROCm versions
with their gfx targets; the Intel device IPs of `xpu` builds; and which anchor release each
companion release pairs with. Pure: it takes decoded TOML and answers lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from packaging.utils import canonicalize_name

from fitwheel.errors import InvalidFamily

Version2 = tuple[int, int]
"""A MAJOR.MINOR version as numbers: (12, 8)."""

T = TypeVar("T")


def parse_version2(text: str, *, where: str) -> Version2:
    """ "12.8" -> (12, 8); anything else is an `InvalidFamily` naming `where`."""
    major, dot, minor = str(text).partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        raise InvalidFamily(f"{where}: {text!r} is not a MAJOR.MINOR version")
    return int(major), int(minor)


def format_version2(version: Version2) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True)
class CudaBuild:
    """The compute capabilities one CUDA build has code for."""

    sass: tuple[Version2, ...]
    ptx: tuple[Version2, ...] = ()

    def span(self) -> str:
        """`7.0-12.0` (lowest to highest architecture), as people quote build lists."""
        archs = sorted({*self.sass, *self.ptx})
        if not archs:
            return "none"
        low, high = format_version2(archs[0]), format_version2(archs[-1])
        ptx = f", PTX {', '.join(format_version2(p) for p in self.ptx)}" if self.ptx else ""
        return (low if low == high else f"{low}-{high}") + ptx


@dataclass(frozen=True)
class ReleaseBuilds:
    """One anchor release: CUDA version -> its build, ROCm version -> gfx targets."""

    cuda: Mapping[Version2, CudaBuild]
    rocm: Mapping[Version2, tuple[str, ...]]


@dataclass(frozen=True)
class Lookup(Generic[T]):
    """A table answer, with the note to show when it is not an exact match."""

    value: T
    note: str | None = None


@dataclass(frozen=True)
class BuildTable:
    releases: Mapping[Version2, ReleaseBuilds]
    xpu_device_ips: tuple[str, ...]
    companions: Mapping[str, Mapping[Version2, Version2]]
    """Normalized project -> its MAJOR.MINOR -> the anchor's MAJOR.MINOR."""

    def cuda(
        self, anchor: Version2, anchor_name: str, version: Version2
    ) -> Lookup[CudaBuild] | None:
        """The CUDA `version` build of an anchor release, or the closest one listed (noted)."""
        return self._lookup(anchor, anchor_name, version, "CUDA", lambda r: r.cuda)

    def rocm(
        self, anchor: Version2, anchor_name: str, version: Version2
    ) -> Lookup[tuple[str, ...]] | None:
        """The gfx targets of the ROCm `version` build, or of the closest one listed (noted)."""
        return self._lookup(anchor, anchor_name, version, "ROCm", lambda r: r.rocm)

    def _lookup(
        self,
        anchor: Version2,
        anchor_name: str,
        version: Version2,
        kind: str,
        builds: Callable[[ReleaseBuilds], Mapping[Version2, T]],
    ) -> Lookup[T] | None:
        # The closest release that lists builds of this kind, then its closest version.
        listed = {k: builds(r) for k, r in self.releases.items() if builds(r)}
        release = closest_version(listed, anchor, anchor_name)
        if release is None:
            return None
        found = closest_version(release.value[1], version, kind)
        assert found is not None  # `listed` holds only releases with builds of this kind
        notes = [n for n in (release.note, found.note) if n]
        return Lookup(found.value[1], "; ".join(notes) or None)

    def anchor_of(self, project: str, version: Version2) -> Lookup[Version2] | None:
        """The anchor release a companion's release pairs with (None: not listed).

        Past the last entry, a table whose entries all step the same way (torchvision 0.24 ->
        2.9, 0.25 -> 2.10) is followed one more step, with a note.
        """
        pairs = self.companions.get(canonicalize_name(project), {})
        if version in pairs:
            return Lookup(pairs[version])
        if not pairs:
            return None
        offsets = {(a[0], b[0], b[1] - a[1]) for a, b in pairs.items()}
        last = max(pairs)
        if len(offsets) != 1 or version[0] != last[0] or version < last:
            return None
        (_, major, step) = offsets.pop()
        paired = (major, version[1] + step)
        return Lookup(
            paired,
            f"{project} {format_version2(version)} is past the pairing table; paired with "
            f"{format_version2(paired)} by the table's own step",
        )


def _distance(a: Version2, b: Version2) -> int:
    # Minor versions of one major are close; another major is far (100 minors away).
    return abs((a[0] * 100 + a[1]) - (b[0] * 100 + b[1]))


def closest_version(
    table: Mapping[Version2, T], wanted: Version2, what: str
) -> Lookup[tuple[Version2, T]] | None:
    """The entry for `wanted`, else the closest one (ties: the older), with a note."""
    if wanted in table:
        return Lookup((wanted, table[wanted]))
    if not table:
        return None
    closest = min(table, key=lambda known: (_distance(known, wanted), known))
    return Lookup(
        (closest, table[closest]),
        f"{what} {format_version2(wanted)} is not in the build table; using the "
        f"architecture lists of {what} {format_version2(closest)}, the closest listed",
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidFamily(f"{where}: expected a list of strings")
    return tuple(value)


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidFamily(f"{where}: expected a table")
    return value


def build_table_from_document(data: Mapping[str, Any], *, where: str) -> BuildTable:
    """Read `[releases]`, `[xpu]` and `[companions]` of a family document."""
    releases: dict[Version2, ReleaseBuilds] = {}
    for release, body in _table(data.get("releases", {}), f"{where} [releases]").items():
        at = f"{where} [releases.{release!r}]"
        body = _table(body, at)
        cuda = {}
        for cuda_version, build in _table(body.get("cuda", {}), f"{at}.cuda").items():
            build_at = f"{at}.cuda.{cuda_version!r}"
            build = _table(build, build_at)
            cuda[parse_version2(cuda_version, where=build_at)] = CudaBuild(
                sass=tuple(
                    parse_version2(a, where=build_at)
                    for a in _strings(build.get("sass", []), build_at)
                ),
                ptx=tuple(
                    parse_version2(a, where=build_at)
                    for a in _strings(build.get("ptx", []), build_at)
                ),
            )
        rocm = {
            parse_version2(rocm_version, where=f"{at}.rocm"): _strings(targets, f"{at}.rocm")
            for rocm_version, targets in _table(body.get("rocm", {}), f"{at}.rocm").items()
        }
        releases[parse_version2(release, where=at)] = ReleaseBuilds(
            MappingProxyType(cuda), MappingProxyType(rocm)
        )
    xpu = _table(data.get("xpu", {}), f"{where} [xpu]")
    companions: dict[str, Mapping[Version2, Version2]] = {}
    for project, pairs in _table(data.get("companions", {}), f"{where} [companions]").items():
        at = f"{where} [companions.{project}]"
        companions[canonicalize_name(project)] = MappingProxyType(
            {
                parse_version2(mine, where=at): parse_version2(str(theirs), where=at)
                for mine, theirs in _table(pairs, at).items()
            }
        )
    return BuildTable(
        releases=MappingProxyType(releases),
        xpu_device_ips=_strings(xpu.get("device_ip", []), f"{where} [xpu]"),
        companions=MappingProxyType(companions),
    )
