"""Reading a folder of distributions for `index build`: hashes, core metadata, requires-python.

Each file is read once; what was learned is kept in a `ScanCache` keyed by name, size and
modification time, so a re-run reads only new or changed files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from fitwheel.index.filenames import DistributionName, FileKind, classify, project_of

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScannedFile:
    """One distribution file of the source folder and the facts its index entry needs."""

    filename: str
    project: str
    version: str
    kind: str
    size: int
    mtime_ns: int
    sha256: str
    requires_python: str | None = None
    metadata_sha256: str | None = None

    @property
    def file_kind(self) -> FileKind:
        return FileKind(self.kind)


def requires_python_of(metadata: bytes) -> str | None:
    headers = BytesHeaderParser().parsebytes(metadata)
    value = headers.get("Requires-Python")
    return " ".join(str(value).split()) or None if value is not None else None


def _read(path: Path, name: DistributionName, project: str) -> tuple[ScannedFile, bytes | None]:
    """Hash the file and, for a wheel, read (safely) its METADATA."""
    from fitwheel.errors import InvalidWheel
    from fitwheel.wheel.archive import open_wheel

    stat = path.stat()
    with path.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    metadata = None
    if name.wheel is not None:
        archive = open_wheel(path)
        metadata = archive.read_dist_info("METADATA")
        if metadata is None:
            raise InvalidWheel(f"{path}: {archive.member_path('METADATA')} is missing")
    scanned = ScannedFile(
        filename=path.name,
        project=project,
        version=str(name.version),
        kind=name.kind.value,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        sha256=sha256,
        requires_python=requires_python_of(metadata) if metadata is not None else None,
        metadata_sha256=hashlib.sha256(metadata).hexdigest() if metadata is not None else None,
    )
    return scanned, metadata


@dataclass(frozen=True)
class ScanResult:
    files: tuple[ScannedFile, ...]
    changed: frozenset[str]
    """Filenames read this time (new or modified)."""
    metadata: Mapping[str, bytes]
    """Filename -> METADATA bytes, for the wheels read this time."""
    skipped: tuple[str, ...]
    """Names in the folder that are not distributions."""


def scan_folder(
    source: Path, cache: Mapping[str, Mapping[str, Any]], progress: Progress | None = None
) -> ScanResult:
    """Every distribution in `source` (not recursive); `cache` is a previous run's records."""
    entries = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    files: list[ScannedFile] = []
    changed: set[str] = set()
    metadata: dict[str, bytes] = {}
    skipped: list[str] = []
    for done, path in enumerate(entries, 1):
        if progress is not None:
            progress(done, len(entries))
        previous = cache.get(path.name)
        if previous is not None:
            stat = path.stat()
            if (
                previous.get("size") == stat.st_size
                and previous.get("mtime_ns") == stat.st_mtime_ns
            ):
                files.append(ScannedFile(**previous))
                continue
        project = project_of(path.name)
        name = classify(path.name, project) if project is not None else None
        if project is None or name is None:
            skipped.append(path.name)
            continue
        scanned, data = _read(path, name, project)
        files.append(scanned)
        changed.add(path.name)
        if data is not None:
            metadata[path.name] = data
    return ScanResult(tuple(files), frozenset(changed), metadata, tuple(skipped))


def cache_records(files: tuple[ScannedFile, ...]) -> dict[str, dict[str, Any]]:
    return {f.filename: asdict(f) for f in files}
