"""A release's `{name}-{version}-variants.json`: find its links on a page, fetch, merge."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

from packaging.version import Version

from fitwheel.errors import InvalidVariantMetadata, VariantMetadataConflict
from fitwheel.index.filenames import variants_json_filename
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.index.releases import page_releases
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import VariantsDocument, loads_variants_document

Fetch = Callable[[str], Awaitable[bytes]]


def _check_hash(file: IndexFile, body: bytes) -> None:
    expected = file.hashes.get("sha256")
    if expected is not None and hashlib.sha256(body).hexdigest() != expected:
        raise InvalidVariantMetadata(
            f"{file.url}: its sha256 does not match the one on the project page"
        )


def missing_reason(page: ProjectPage, version: Version) -> str:
    return (
        f"{page.url} lists no {variants_json_filename(page.name, version)}, so PEP 825 treats "
        "this release's variant wheels as incompatible"
    )


async def release_documents(page: ProjectPage, fetch: Fetch) -> dict[str, VariantsDocument | str]:
    """Each release's merged variants document, or why it has none (a string): a release
    whose page lists no variants.json has none (PEP 825: its variant wheels are then
    incompatible). One that is listed but cannot be fetched, is malformed, or conflicts with
    another copy raises an error naming its URL: choosing as if it were missing would give the
    target a wrong file."""

    async def one(version: Version, files: list[IndexFile]) -> VariantsDocument | str:
        if not files:
            return missing_reason(page, version)
        bodies = await asyncio.gather(*(fetch(f.url) for f in files))
        for file, body in zip(files, bodies, strict=True):
            _check_hash(file, body)
        documents = [
            loads_variants_document(body, where=f.url)
            for f, body in zip(files, bodies, strict=True)
        ]
        merged = documents[0]
        for file, document in zip(files[1:], documents[1:], strict=True):
            try:
                merged = merge_documents(merged, document)
            except VariantMetadataConflict as exc:
                raise VariantMetadataConflict(f"{file.url}: {exc}") from None
        return merged

    # Releases with variant wheels or variants.json files; the others need no document.
    links = {
        version: list(release.variants_json)
        for version, release in page_releases(page).items()
        if release.variants_json or release.has_variant_wheels
    }
    results = await asyncio.gather(*(one(v, files) for v, files in links.items()))
    return {str(v): result for v, result in zip(links, results, strict=True)}
