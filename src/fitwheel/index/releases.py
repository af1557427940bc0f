"""A project page grouped into releases: each file classified once, versions kept as `Version`."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from fitwheel.index.filenames import DistributionName, FileKind, classify
from fitwheel.index.model import IndexFile, ProjectPage


@dataclass(frozen=True)
class Release:
    """One release's distributions (in page order, with their parsed names) and the
    `variants.json` links that describe its variant wheels."""

    version: Version
    files: tuple[tuple[IndexFile, DistributionName], ...]
    variants_json: tuple[IndexFile, ...]

    @property
    def has_variant_wheels(self) -> bool:
        return any(name.kind is FileKind.VARIANT_WHEEL for _, name in self.files)


def page_releases(page: ProjectPage) -> dict[Version, Release]:
    """The page's releases, newest first; files that belong to no release are left out."""
    files: dict[Version, list[tuple[IndexFile, DistributionName]]] = {}
    documents: dict[Version, list[IndexFile]] = {}
    for file in page.files:
        name = classify(file.filename, page.name)
        if name is None:
            continue
        documents.setdefault(name.version, [])
        if name.kind is FileKind.VARIANTS_JSON:
            documents[name.version].append(file)
        else:
            files.setdefault(name.version, []).append((file, name))
    return {
        version: Release(version, tuple(files.get(version, ())), tuple(documents[version]))
        for version in sorted(documents, reverse=True)
    }
