"""Putting a file in place in one step: written under a unique temporary name in the same
folder, then renamed over its final name, so a reader (or a web server) sees the old bytes or
the new ones, never a part.

Temporary names start with `TEMP_PREFIX`; a killed writer may leave one behind, which the
next build of the same folder removes. Files are created with mode `0o666` less the umask
(what `open()` gives): a published file is readable by the web server, whoever runs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterable

TEMP_PREFIX = ".fitwheel-tmp-"

_COPY_CHUNK = 1 << 20


class ChangedWhileCopying(OSError):
    """The source no longer has the bytes it was hashed with a moment ago."""


def _temporary(folder: str) -> tuple[int, str]:
    while True:
        path = os.path.join(folder, TEMP_PREFIX + secrets.token_hex(8))
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue


def _write_all(fd: int, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]


def write_atomic(path: str, data: bytes) -> None:
    """Replace (or create) `path` with `data` in one rename."""
    fd, tmp = _temporary(os.path.dirname(path))
    try:
        try:
            _write_all(fd, (data,))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def copy_atomic(source: str, path: str, sha256: str) -> None:
    """Copy `source` to `path` in one rename, refusing a copy whose sha256 is not `sha256`
    (the source changed since it was read: publishing it would contradict its page).
    A symbolic link at `source` is not followed."""
    digest = hashlib.sha256()
    src = os.open(source, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        fd, tmp = _temporary(os.path.dirname(path))
        try:
            try:
                while chunk := os.read(src, _COPY_CHUNK):
                    digest.update(chunk)
                    _write_all(fd, (chunk,))
            finally:
                os.close(fd)
            if digest.hexdigest() != sha256:
                raise ChangedWhileCopying(f"{source} changed while it was being published")
            os.replace(tmp, path)
        except BaseException:
            _unlink_quietly(tmp)
            raise
    finally:
        os.close(src)


def remove_temporaries(folder: str) -> None:
    """Remove what a killed writer left in `folder` (its temporary files only)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(TEMP_PREFIX):
            _unlink_quietly(os.path.join(folder, name))


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
