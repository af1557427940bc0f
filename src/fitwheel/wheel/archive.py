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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fitwheel.errors import InvalidWheel

VARIANT_JSON = "variant.json"
DIST_INFO_FILE_LIMIT = 32 << 20
"""The most a `.dist-info` file fitwheel reads (METADATA, variant.json) may claim to hold: a
real one is kilobytes; a compressed one that unpacks to gigabytes is an attack."""


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

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(name)

    def read_dist_info(self, name: str) -> bytes | None:
        wanted = self.member_path(name)
        info = next((m for m in self.members if m.filename == wanted), None)
        if info is None:
            return None
        check_dist_info_size(info, str(self.path))
        return self.read(wanted)


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
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise InvalidWheel(f"{where}: refusing symbolic link {name!r} in the archive")
    # Many zip writers store permission bits only (no file type): those are regular files.
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise InvalidWheel(f"{where}: refusing special file {name!r} in the archive")


def open_wheel(path: str | Path) -> WheelArchive:
    """Open and check a wheel; raise `InvalidWheel` naming the file and the problem."""
    path = Path(path)
    where = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = tuple(archive.infolist())
    except FileNotFoundError:
        raise InvalidWheel(f"{where}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidWheel(f"{where}: not a readable zip archive ({exc})") from None
    return WheelArchive(path, members, check_members(members, where))


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


def rewrite_wheel(
    source: WheelArchive,
    destination: Path,
    *,
    drop: Iterable[str] = (),
    add: Mapping[str, bytes] | None = None,
) -> Path:
    """Copy `source` to `destination` without `drop`, with `add`, and a recomputed RECORD.

    The output is written to a temporary file beside `destination` and renamed into place,
    so a failure never leaves a half-written wheel.
    """
    add = dict(add or {})
    record_name = source.member_path("RECORD")
    skipped = set(drop) | set(add) | {record_name}
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".fitwheel-", suffix=".whl", dir=destination.parent)
    os.close(fd)
    rows: list[list[str]] = []
    try:
        with (
            zipfile.ZipFile(source.path) as src,
            zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            for info in source.members:
                if info.filename in skipped:
                    continue
                data = src.read(info)
                out.writestr(info, data)
                if not info.is_dir():
                    rows.append([info.filename, record_hash(data), str(len(data))])
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
