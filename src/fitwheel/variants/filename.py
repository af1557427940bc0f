"""Wheel filenames with an optional variant label (PEP 825)."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import (
    BuildTag,
    InvalidWheelFilename,
    NormalizedName,
    parse_wheel_filename,
)
from packaging.version import Version

from fitwheel.errors import InvalidVariantWheelFilename
from fitwheel.variants.properties import LABEL_RE


@dataclass(frozen=True)
class VariantWheelFilename:
    """A parsed wheel filename; `label` is None for a plain (non-variant) wheel."""

    filename: str
    name: NormalizedName
    version: Version
    build: BuildTag
    tags: frozenset[Tag]
    label: str | None

    @property
    def base_filename(self) -> str:
        """The filename without its label: what a stock installer accepts."""
        return strip_label(self.filename, self.label)

    def with_label(self, label: str | None) -> str:
        return with_label(self.base_filename, label)


def split_label(filename: str) -> tuple[str, str | None]:
    """Split `filename` into (label-less filename, label or None), checking only the shape."""
    if not filename.endswith(".whl"):
        raise InvalidVariantWheelFilename(
            f"invalid wheel filename (must end in .whl): {filename!r}"
        )
    parts = filename[: -len(".whl")].split("-")
    if len(parts) == 5:
        return filename, None
    if len(parts) == 6:
        # name-ver-build-py-abi-plat or name-ver-py-abi-plat-label: a python tag never
        # starts with a digit, a build tag always does.
        if parts[2][:1].isdigit():
            return filename, None
        label = parts[5]
    elif len(parts) == 7:
        label = parts[6]
    else:
        raise InvalidVariantWheelFilename(
            f"invalid wheel filename (wrong number of parts): {filename!r}"
        )
    if not LABEL_RE.fullmatch(label):
        raise InvalidVariantWheelFilename(
            f"invalid variant label {label!r} in wheel filename {filename!r}: must match [0-9a-z_.]+"
        )
    return "-".join(parts[:-1]) + ".whl", label


def parse_variant_wheel_filename(filename: str) -> VariantWheelFilename:
    """Parse a wheel filename, with or without a variant label."""
    base, label = split_label(filename)
    try:
        name, version, build, tags = parse_wheel_filename(base)
    except InvalidWheelFilename as exc:
        raise InvalidVariantWheelFilename(f"invalid wheel filename {filename!r}: {exc}") from None
    except ValueError as exc:
        # A version or build number past Python's integer digit limit (4,300 digits).
        raise InvalidVariantWheelFilename(
            f"invalid wheel filename {filename[:100]!r}…: {str(exc)[:100]}"
        ) from None
    return VariantWheelFilename(filename, name, version, build, tags, label)


def strip_label(filename: str, label: str | None) -> str:
    if label is None:
        return filename
    return filename[: -len(f"-{label}.whl")] + ".whl"


def with_label(base_filename: str, label: str | None) -> str:
    if label is None:
        return base_filename
    return base_filename[: -len(".whl")] + f"-{label}.whl"
