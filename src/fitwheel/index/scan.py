"""Reading a folder of distributions for `index build`: hashes, core metadata, requires-python.

The folder is walked recursively (hidden folders and files are skipped). Symbolic links are
not followed, to files or folders, so nothing outside the folder is ever read or published;
they, other non-regular files and names that give no valid project are skipped with a reason.
Each file is opened
once: a file up to `_IN_MEMORY` bytes is read whole, and its hash and its zip member list come
from the same bytes. What was learned is kept in records keyed by the file's relative path,
size and modification time, so a re-run reads only new or changed files.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import IO, Any

from fitwheel.errors import FitwheelError, InvalidWheel, UnreadableArchive
from fitwheel.index.filenames import FileKind, classify, is_normalized_name, project_of
from fitwheel.index.zipdir import member_list, read_member
from fitwheel.wheel.archive import VARIANT_JSON, check_dist_info_size, check_members

Progress = Callable[[int, int], None]

_IN_MEMORY = 16 << 20
"""Files up to this size are read in one call; larger ones are hashed and unzipped in place."""


@dataclass(frozen=True)
class ScannedFile:
    """One distribution file of the source folder and the facts its index entry needs."""

    path: str
    """Relative to the source folder, `/`-separated."""
    project: str
    version: str
    kind: str
    size: int
    mtime_ns: int
    sha256: str
    requires_python: str | None = None
    metadata_sha256: str | None = None

    @property
    def filename(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def file_kind(self) -> FileKind:
        return FileKind(self.kind)


_FIELDS = tuple(f.name for f in fields(ScannedFile))


def record_of(file: ScannedFile) -> dict[str, Any]:
    """`file` as a JSON-able record (what the state file keeps)."""
    return {name: getattr(file, name) for name in _FIELDS}


def from_record(record: Mapping[str, Any], path: str, project: str) -> ScannedFile | None:
    """The record of the file at `path` (of `project`) back as a `ScannedFile`, or None if it
    is not one (an older or edited state: a record naming another path is not believed)."""
    try:
        file = ScannedFile(**record)
    except TypeError:
        return None
    if file.path != path or file.project != project:
        return None
    return file


_HEADER_NAME = re.compile(rb"[\041-\071\073-\176]+")
"""What the email parser accepts as a header name (any other line ends the headers)."""


def _header_value(head: bytes, name: bytes) -> bytes | None:
    """The first `name:` header's unfolded value, or None; ValueError where the email
    parser's own rules are needed (a line that is not a header)."""
    lines = head.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    found: list[bytes] | None = None
    for index, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            if index == 0:
                raise ValueError("a continuation line first")
            if found is not None:
                found.append(line)
            continue
        if found is not None:
            break
        key, colon, value = line.partition(b":")
        if not colon or not _HEADER_NAME.fullmatch(key):
            raise ValueError("not a header line")
        if key.lower() == name:
            found = [value]
    return b" ".join(found) if found is not None else None


def requires_python_of(metadata: bytes) -> str | None:
    """`Requires-Python` of a METADATA file, with its whitespace normalized."""
    head = metadata.split(b"\n\n", 1)[0]
    if head.isascii() and b"\r" not in head and not head.startswith(b"From "):
        # The common case without the email parser (a tenth of the scan's time otherwise).
        try:
            raw = _header_value(head, b"requires-python")
        except ValueError:
            pass
        else:
            return " ".join(raw.decode().split()) or None if raw is not None else None
    value = BytesHeaderParser().parsebytes(metadata).get("Requires-Python")
    return " ".join(str(value).split()) or None if value is not None else None


@dataclass(frozen=True)
class WheelRead:
    """What `index build` takes from a wheel's archive in the one read of the file."""

    metadata: bytes
    dist_info: str
    variant_json: bytes | None
    """The `variant.json` of a variant wheel (None when it has none, or for a plain wheel)."""


@dataclass(frozen=True)
class FileRead:
    """A scanned file, and for a wheel what its archive gave."""

    file: ScannedFile
    wheel: WheelRead | None


def _read_wheel(archive_file: IO[bytes] | bytes, where: str, variant: bool) -> WheelRead:
    """The METADATA (and, for a `variant` wheel, `variant.json`) of a wheel given as its bytes
    or an open file, after the archive's members pass `check_members`."""
    if isinstance(archive_file, bytes):
        members = member_list(archive_file)
        if members is not None:
            dist_info = check_members(members, where)
            by_name = {m.filename: m for m in members}
            info = by_name.get(f"{dist_info}/METADATA")
            if info is None:
                raise InvalidWheel(f"{where}: {dist_info}/METADATA is missing")
            extra = by_name.get(f"{dist_info}/{VARIANT_JSON}") if variant else None
            for entry in (info, extra):
                if entry is not None:
                    check_dist_info_size(entry, where)
            metadata = read_member(archive_file, info)
            variant_json = read_member(archive_file, extra) if extra is not None else None
            if metadata is not None and (extra is None or variant_json is not None):
                return WheelRead(metadata, dist_info, variant_json)
        archive_file = io.BytesIO(archive_file)
    try:
        with zipfile.ZipFile(archive_file) as archive:
            dist_info = check_members(tuple(archive.infolist()), where)
            wanted = f"{dist_info}/METADATA"
            if wanted not in archive.NameToInfo:
                raise InvalidWheel(f"{where}: {wanted} is missing")
            member = f"{dist_info}/{VARIANT_JSON}"
            has_member = variant and member in archive.NameToInfo
            for name in (wanted, member) if has_member else (wanted,):
                check_dist_info_size(archive.NameToInfo[name], where)
            return WheelRead(
                archive.read(wanted), dist_info, archive.read(member) if has_member else None
            )
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ) as exc:
        raise UnreadableArchive(f"{where}: not a readable zip archive ({exc})") from None


def read_file(source: str, relative: str, project: str) -> FileRead | None:
    """Hash one file and, for a wheel, read (safely) its METADATA and `variant.json`; None if
    it is not a distribution of `project`."""
    name = classify(relative.rpartition("/")[2], project)
    if name is None:
        return None
    path = f"{source}/{relative}"
    variant = name.kind is FileKind.VARIANT_WHEEL
    try:
        # Never through a link, nor blocking on a FIFO put in place since the listing.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        with open(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FitwheelError(f"{path}: not a regular file any more; build again")
            wheel = None
            if info.st_size <= _IN_MEMORY:
                data = handle.read()
                sha256 = hashlib.sha256(data).hexdigest()
                if name.wheel is not None:
                    wheel = _read_wheel(data, path, variant)
            else:
                sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
                if name.wheel is not None:
                    handle.seek(0)
                    wheel = _read_wheel(handle, path, variant)
    except OSError as exc:
        raise FitwheelError(f"cannot read {path}: {exc.strerror}") from None
    metadata = wheel.metadata if wheel is not None else None
    scanned = ScannedFile(
        path=relative,
        project=project,
        version=str(name.version),
        kind=name.kind.value,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        sha256=sha256,
        requires_python=requires_python_of(metadata) if metadata is not None else None,
        metadata_sha256=hashlib.sha256(metadata).hexdigest() if metadata is not None else None,
    )
    return FileRead(scanned, wheel)


@dataclass(frozen=True, order=True)
class Skipped:
    """A name in the source folder that is not published, and why."""

    path: str
    reason: str


NOT_A_DISTRIBUTION = "not a wheel, sdist or variants.json"


@dataclass(frozen=True)
class Listing:
    projects: dict[str, list[str]]
    """Normalized project name -> relative paths of its files, sorted."""
    skipped: list[Skipped]
    """What is not a distribution (by name or file type), sorted."""


def _skipped(entry: os.DirEntry[str], relative: str) -> Skipped | None:
    """Why a listed entry that is not a folder is not a distribution file, if it is not."""
    if entry.is_symlink():
        return Skipped(relative, "a symbolic link (links are not followed)")
    if not entry.is_file(follow_symlinks=False):
        return Skipped(relative, "not a regular file")
    project = project_of(entry.name)
    if project is None:
        return Skipped(relative, NOT_A_DISTRIBUTION)
    if not is_normalized_name(project):
        return Skipped(relative, f"{project!r} is not a valid project name")
    return None


def list_folder(source: Path) -> Listing:
    """Every file under `source`, grouped by the project its name says (not read yet)."""
    projects: dict[str, list[str]] = {}
    skipped: list[Skipped] = []
    pending = [("", str(source))]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((relative + "/", entry.path))
                elif (why := _skipped(entry, relative)) is not None:
                    skipped.append(why)
                else:
                    projects.setdefault(str(project_of(entry.name)), []).append(relative)
    for paths in projects.values():
        paths.sort()
    return Listing(projects, sorted(skipped))


def unchanged(source: Path, record: ScannedFile) -> bool:
    """Whether the file a record describes still has the recorded size and mtime."""
    try:
        info = os.lstat(os.path.join(source, record.path))
    except OSError:
        return False
    return record.size == info.st_size and record.mtime_ns == info.st_mtime_ns
