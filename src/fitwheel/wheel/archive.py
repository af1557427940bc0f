"""Reading and rewriting wheel archives safely (no traversal, no links, no duplicates)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fitwheel.errors import InvalidWheel, UnreadableArchive

VARIANT_JSON = "variant.json"
DIST_INFO_FILE_LIMIT = 32 << 20
"""The most a `.dist-info` file fitwheel reads (METADATA, variant.json) may claim to hold: a
real one is kilobytes; a compressed one that unpacks to gigabytes is an attack."""
MEMBER_LIMIT = 8 << 30
"""The most one member fitwheel copies may unpack to (the largest real wheels' libraries are
about 2 GiB); members are streamed, so memory stays small whatever the size."""
_CHUNK = 1 << 20
_SUPPORTED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ENCRYPTED = 0x1
_UNSUPPORTED_FLAGS = 0x20 | 0x40  # compressed patched data, strong encryption
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
)
"""What `zipfile` raises for archives it cannot read (RuntimeError: encrypted members)."""


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class WheelArchive:
    """The checked member list of a wheel and where its `.dist-info` lives."""

    path: Path
    members: tuple[zipfile.ZipInfo, ...]
    dist_info: str

    def member_path(self, name: str) -> str:
        return f"{self.dist_info}/{name}"

    def read(self, name: str, limit: int = DIST_INFO_FILE_LIMIT) -> bytes:
        """One member's bytes (at most `limit`; more is an error, found before unpacking)."""
        info = next((m for m in self.members if m.filename == name), None)
        if info is None:
            raise InvalidWheel(f"{self.path}: no member {name!r}")
        if info.file_size > limit:
            raise InvalidWheel(
                f"{self.path}: {name} unpacks to {info.file_size} bytes, more than the {limit} "
                "fitwheel reads"
            )
        with zipfile_open(self.path) as archive, member_stream(archive, info, self.path) as stream:
            return _read_member(stream, info, self.path)

    def read_dist_info(self, name: str) -> bytes | None:
        wanted = self.member_path(name)
        info = next((m for m in self.members if m.filename == wanted), None)
        if info is None:
            return None
        check_dist_info_size(info, str(self.path))
        return self.read(wanted)


@contextmanager
def zipfile_open(
    path: Path | IO[bytes], where: str | Path | None = None
) -> Iterator[zipfile.ZipFile]:
    """`zipfile.ZipFile(path)`, its refusals as `UnreadableArchive` naming the file."""
    named = where if where is not None else path
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise InvalidWheel(f"{named}: no such file") from None
    except _READ_ERRORS as exc:
        raise UnreadableArchive(f"{named}: not a readable zip archive ({exc})") from None
    with archive:
        yield archive


@contextmanager
def member_stream(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str | Path
) -> Iterator[_MemberReader]:
    """A member opened for streaming; `zipfile`'s refusals, at open or while reading (CRC,
    corrupt stream), become `UnreadableArchive` naming the file and member."""
    try:
        stream = archive.open(info)
    except _READ_ERRORS as exc:
        raise _unreadable(where, info, exc) from None
    with stream:
        yield _MemberReader(stream, info, where)


def _unreadable(where: str | Path, info: zipfile.ZipInfo, exc: BaseException) -> UnreadableArchive:
    return UnreadableArchive(f"{where}: member {info.filename!r} cannot be read ({exc})")


@dataclass(frozen=True)
class _MemberReader:
    stream: IO[bytes]
    info: zipfile.ZipInfo
    where: str | Path

    def read(self, size: int) -> bytes:
        try:
            return self.stream.read(size)
        except _READ_ERRORS as exc:
            raise _unreadable(self.where, self.info, exc) from None


def _read_member(stream: _MemberReader, info: zipfile.ZipInfo, where: str | Path) -> bytes:
    chunks = []
    while chunk := stream.read(_CHUNK):
        chunks.append(chunk)
    data = b"".join(chunks)
    if len(data) != info.file_size:
        raise UnreadableArchive(
            f"{where}: member {info.filename!r} unpacks to {len(data)} bytes, not the "
            f"{info.file_size} its entry declares"
        )
    return data


def check_dist_info_size(info: zipfile.ZipInfo, where: str) -> None:
    """Refuse a `.dist-info` file larger than `DIST_INFO_FILE_LIMIT` before unpacking it."""
    if info.file_size > DIST_INFO_FILE_LIMIT:
        raise InvalidWheel(
            f"{where}: {info.filename} unpacks to {info.file_size} bytes, more than the "
            f"{DIST_INFO_FILE_LIMIT} a metadata file may have"
        )


def _check_member(info: zipfile.ZipInfo, where: str) -> None:
    name = info.filename
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise InvalidWheel(f"{where}: refusing absolute path {name!r} in the archive")
    # Plain string checks, not PurePosixPath: `index build` checks thousands of archives.
    if "\\" in name or ".." in name.split("/"):
        raise InvalidWheel(f"{where}: refusing path {name!r} that leaves the install folder")
    if info.flag_bits & _ENCRYPTED:
        raise UnreadableArchive(f"{where}: member {name!r} is encrypted; pip cannot install it")
    if info.flag_bits & _UNSUPPORTED_FLAGS:
        raise UnreadableArchive(
            f"{where}: member {name!r} has zip flags {info.flag_bits:#06x} (patched data or "
            "strong encryption) that zipfile and pip cannot read"
        )
    if info.compress_type not in _SUPPORTED_METHODS:
        raise UnreadableArchive(
            f"{where}: member {name!r} uses zip compression method {info.compress_type}; a "
            "wheel's members are stored or deflated"
        )
    if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
        raise UnreadableArchive(
            f"{where}: member {name!r} needs zip version {info.extract_version / 10:.1f}, "
            f"newer than the {zipfile.MAX_EXTRACT_VERSION / 10:.1f} zipfile and pip read"
        )
    if info.file_size > MEMBER_LIMIT:
        raise UnreadableArchive(
            f"{where}: member {name!r} unpacks to {info.file_size} bytes, more than the "
            f"{MEMBER_LIMIT} fitwheel copies"
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise InvalidWheel(f"{where}: refusing symbolic link {name!r} in the archive")
    # Many zip writers store permission bits only (no file type): those are regular files.
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise InvalidWheel(f"{where}: refusing special file {name!r} in the archive")


def open_wheel(path: str | Path) -> WheelArchive:
    """Open and check a wheel; raise `InvalidWheel` naming the file and the problem."""
    path = Path(path)
    with zipfile_open(path) as archive:
        members = tuple(archive.infolist())
    return WheelArchive(path, members, check_members(members, str(path)))


def check_members(members: tuple[zipfile.ZipInfo, ...], where: str) -> str:
    """Refuse hostile or malformed member lists; return the `.dist-info` folder's name."""
    seen: set[str] = set()
    for info in members:
        _check_member(info, where)
        if info.filename in seen:
            raise InvalidWheel(f"{where}: duplicate archive entry {info.filename!r}")
        seen.add(info.filename)
    dist_infos = {
        m.filename.split("/", 1)[0]
        for m in members
        if "/" in m.filename
        and m.filename.split("/", 1)[0].endswith(".dist-info")
        and m.filename.count("/") == 1
    }
    candidates = sorted(d for d in dist_infos if f"{d}/WHEEL" in seen)
    if len(candidates) != 1:
        raise InvalidWheel(
            f"{where}: expected exactly one top-level *.dist-info folder with a WHEEL file, "
            f"found {candidates or 'none'}"
        )
    if f"{candidates[0]}/RECORD" not in seen:
        raise InvalidWheel(f"{where}: {candidates[0]}/RECORD is missing")
    return candidates[0]


def record_hashes(record: bytes, where: str) -> dict[str, str]:
    """RECORD's `path -> sha256=...` entries (rows without a hash are left out)."""
    try:
        rows = list(csv.reader(io.StringIO(record.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidWheel(f"{where}: RECORD is not a readable CSV file ({exc})") from None
    hashes = {}
    for row in rows:
        if len(row) >= 2 and row[1]:
            hashes[row[0]] = row[1]
    return hashes


def rewrite_wheel(
    source: WheelArchive,
    destination: Path,
    *,
    drop: Iterable[str] = (),
    add: Mapping[str, bytes] | None = None,
) -> Path:
    """Copy `source` to `destination` without `drop`, with `add`, and a recomputed RECORD.

    Members are streamed (memory stays small whatever their size) and each one's sha256 is
    checked against the source's RECORD: a RECORD that lies is refused, not rewritten to match.
    The output is written to a temporary file beside `destination` and renamed into place,
    so a failure never leaves a half-written wheel.
    """
    add = dict(add or {})
    record_name = source.member_path("RECORD")
    where = str(source.path)
    recorded = record_hashes(source.read(record_name), where)
    skipped = set(drop) | set(add) | {record_name}
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".fitwheel-", suffix=".whl", dir=destination.parent)
    os.close(fd)
    rows: list[list[str]] = []
    try:
        with (
            zipfile_open(source.path) as src,
            zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            for info in source.members:
                if info.filename in skipped:
                    continue
                if info.is_dir():
                    out.writestr(info, b"")
                    continue
                digest, size = _copy_member(src, info, out, where)
                expected = recorded.get(info.filename)
                if expected is not None and expected.startswith("sha256=") and expected != digest:
                    raise InvalidWheel(
                        f"{where}: RECORD says {info.filename} has {expected}, but it has "
                        f"{digest}; the wheel was changed after it was built"
                    )
                rows.append([info.filename, digest, str(size)])
            for name, data in add.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, data)
                rows.append([name, record_hash(data), str(len(data))])
            rows.append([record_name, "", ""])
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            record_info = zipfile.ZipInfo(record_name, date_time=(2020, 1, 1, 0, 0, 0))
            record_info.external_attr = (stat.S_IFREG | 0o644) << 16
            record_info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(record_info, buffer.getvalue())
        os.replace(tmp_name, destination)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return destination


def _copy_member(
    src: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile, where: str
) -> tuple[str, int]:
    """Stream one member into `out` (same name, mode and date); its RECORD hash and size."""
    target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    target.external_attr = info.external_attr
    target.compress_type = zipfile.ZIP_DEFLATED
    target.file_size = info.file_size  # lets zipfile choose zip64 up front for a large member
    digest = hashlib.sha256()
    size = 0
    with member_stream(src, info, where) as stream, out.open(target, "w") as sink:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            sink.write(chunk)
            size += len(chunk)
    if size != info.file_size:
        raise UnreadableArchive(
            f"{where}: member {info.filename!r} unpacks to {size} bytes, not the "
            f"{info.file_size} its entry declares"
        )
    return "sha256=" + base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode(), size
