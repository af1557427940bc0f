"""What an index lists: a project page and its files, as PEP 691 describes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

CoreMetadata = bool | Mapping[str, str]
"""PEP 658/714: False (no sidecar), True (a sidecar, no hash given) or its hashes."""


def _no_hashes() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class IndexFile:
    """One file of a project page; `url` is absolute (resolved against the page URL)."""

    filename: str
    url: str
    hashes: Mapping[str, str] = field(default_factory=_no_hashes)
    requires_python: str | None = None
    yanked: bool | str = False
    core_metadata: CoreMetadata = False
    size: int | None = None
    upload_time: str | None = None

    @property
    def is_yanked(self) -> bool:
        return self.yanked is not False

    @property
    def yanked_reason(self) -> str | None:
        return self.yanked if isinstance(self.yanked, str) and self.yanked else None

    @property
    def metadata_url(self) -> str | None:
        """Where the PEP 658 sidecar is, if the index offers one."""
        return self.url.split("#", 1)[0] + ".metadata" if self.core_metadata else None

    def renamed(self, filename: str) -> IndexFile:
        """The same file (same URL, same bytes) listed under another name."""
        return replace(self, filename=filename)


@dataclass(frozen=True)
class ProjectPage:
    """A project's page on an index: its normalized name, where it was read, its files."""

    name: str
    url: str
    files: tuple[IndexFile, ...]
    versions: tuple[str, ...] = ()
