"""Reading a folder of distributions for `index build`: hashes, core metadata, requires-python.

Each file is read once; what was learned is kept in a `ScanCache` keyed by name, size and
modification time, so a re-run reads only new or changed files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
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


_PARALLEL_FROM = 512
"""Read in worker processes from this many new files on (zip parsing is CPU-bound)."""


def _read_entry(entry: tuple[Path, DistributionName, str]) -> tuple[ScannedFile, bytes | None]:
    return _read(*entry)


def scan_folder(
    source: Path, cache: Mapping[str, Mapping[str, Any]], progress: Progress | None = None
) -> ScanResult:
    """Every distribution in `source` (not recursive); `cache` is a previous run's records."""
    entries = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    files: dict[str, ScannedFile] = {}
    todo: list[tuple[Path, DistributionName, str]] = []
    skipped: list[str] = []
    for path in entries:
        previous = cache.get(path.name)
        if previous is not None:
            stat = path.stat()
            if (
                previous.get("size") == stat.st_size
                and previous.get("mtime_ns") == stat.st_mtime_ns
            ):
                files[path.name] = ScannedFile(**previous)
                continue
        project = project_of(path.name)
        name = classify(path.name, project) if project is not None else None
        if project is None or name is None:
            skipped.append(path.name)
            continue
        todo.append((path, name, project))
    metadata: dict[str, bytes] = {}
    workers = min(len(todo) // (_PARALLEL_FROM // 2), os.cpu_count() or 1)
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            results = list(
                _reported(pool.map(_read_entry, todo, chunksize=64), len(todo), progress)
            )
    else:
        results = list(_reported(map(_read_entry, todo), len(todo), progress))
    for scanned, data in results:
        files[scanned.filename] = scanned
        if data is not None:
            metadata[scanned.filename] = data
    ordered = tuple(files[name] for name in sorted(files))
    return ScanResult(ordered, frozenset(s.filename for s, _ in results), metadata, tuple(skipped))


def _reported(
    results: Iterator[tuple[ScannedFile, bytes | None]], total: int, progress: Progress | None
) -> Iterator[tuple[ScannedFile, bytes | None]]:
    for done, result in enumerate(results, 1):
        if progress is not None:
            progress(done, total)
        yield result


def cache_records(files: tuple[ScannedFile, ...]) -> dict[str, dict[str, Any]]:
    return {f.filename: asdict(f) for f in files}
