"""A release's `{name}-{version}-variants.json`, computed from its variant wheels."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from fitwheel.decoding import MAX_DOCUMENT_BYTES
from fitwheel.errors import InvalidFolder, UnreadableFile, VariantMetadataConflict
from fitwheel.files import write_atomically
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import (
    VariantsDocument,
    dumps_variants_document,
    loads_variants_document,
)
from fitwheel.wheel.variant import WheelVariant, read_wheel_variant


@dataclass(frozen=True)
class Release:
    """The `{name}-{version}` prefix its wheel filenames share (name as escaped in them)."""

    name: str
    version: str

    @property
    def variants_json_name(self) -> str:
        return f"{self.name}-{self.version}-variants.json"


def release_of(wheel_filename: str) -> Release:
    name, version = wheel_filename.split("-", 2)[:2]
    return Release(name, version)


def release_documents(
    wheels: Iterable[Path],
    *,
    progress: Callable[[Path], None] | None = None,
    read: Callable[[Path], WheelVariant] = read_wheel_variant,
) -> dict[Release, VariantsDocument]:
    """Merge the `variant.json` of every variant wheel, per release (`read` gets a wheel's,
    e.g. from bytes a caller has already read)."""
    documents: dict[Release, VariantsDocument] = {}
    for wheel in sorted(wheels):
        if progress is not None:
            progress(wheel)
        variant = read(wheel)
        if variant.document is None:
            continue
        release = release_of(wheel.name)
        previous = documents.get(release)
        try:
            documents[release] = (
                variant.document
                if previous is None
                else merge_documents(previous, variant.document)
            )
        except VariantMetadataConflict as exc:
            raise VariantMetadataConflict(f"{wheel}: {exc}") from None
    return documents


def read_bounded(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """A document file's bytes: a regular file no larger than `limit`, opened without
    blocking (a FIFO or a device in its place is an error, not a hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UnreadableFile(path, str(exc.strerror)) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableFile(path, "not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(path, f"larger than the {limit} bytes fitwheel reads")
    return data


def read_variants_json(path: Path) -> VariantsDocument:
    return loads_variants_document(read_bounded(path), where=str(path))


def generate_variants_json(directory: str | Path) -> list[Path]:
    """Write or update `{name}-{version}-variants.json` beside the variant wheels in a folder.

    An existing file is merged with what the wheels say (it may gain labels, never change
    one). Returns the files written.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidFolder(directory, "not a folder")
    written = []
    for release, document in sorted(
        release_documents(directory.glob("*.whl")).items(),
        key=lambda item: (item[0].name, item[0].version),
    ):
        target = directory / release.variants_json_name
        if target.exists():
            try:
                document = merge_documents(read_variants_json(target), document)
            except VariantMetadataConflict as exc:
                raise VariantMetadataConflict(f"{target}: {exc}") from None
        write_atomically(target, dumps_variants_document(document).encode())
        written.append(target)
    return written
