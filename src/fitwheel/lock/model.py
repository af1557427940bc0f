"""What a lock holds: packages, their locked files, and each variant package's metadata."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from fitwheel.variants.filename import split_label
from fitwheel.variants.metadata import VariantsDocument

CREATED_BY = "fitwheel"
LOCK_VERSION = "1.0"


@dataclass(frozen=True)
class LockedFile:
    """One wheel of a package: its real filename (with its variant label), where it is, and
    what its bytes must hash to."""

    filename: str
    hashes: Mapping[str, str]
    url: str | None = None
    path: str | None = None
    size: int | None = None
    upload_time: datetime | None = None

    @property
    def label(self) -> str | None:
        return split_label(self.filename)[1]

    @property
    def base_filename(self) -> str:
        """The filename without its label: what a stock installer (and `installer`) accept."""
        return split_label(self.filename)[0]


@dataclass(frozen=True)
class LockedPackage:
    """One `[[packages]]` entry: a release of a project and the wheels locked for it."""

    name: str
    version: str
    wheels: tuple[LockedFile, ...]
    marker: str | None = None
    requires_python: str | None = None
    index: str | None = None
    variants: VariantsDocument | None = None
    """The release's variants metadata (`[packages.variants-json]`), None without variants."""

    @property
    def has_variants(self) -> bool:
        return any(w.label is not None for w in self.wheels)


@dataclass(frozen=True)
class Lock:
    """A whole `pylock.toml`."""

    packages: tuple[LockedPackage, ...]
    environments: tuple[str, ...] = ()
    requires_python: str | None = None
    created_by: str = CREATED_BY
    tool: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
