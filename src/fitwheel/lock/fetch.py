"""The planned wheels, from a wheel folder or their locked URLs, each checked against its hash.

Every file is read in full and verified before anything is installed: a wrong hash or size,
or a missing file, stops the sync with the environment untouched. Verified files are staged
under their label-less names (what `installer` and the wheel spec accept).
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from fitwheel.errors import InvalidLock, LockedFileMismatch, LockedFileMissing
from fitwheel.lock.plan import PlannedInstall

CHUNK = 1 << 20
DOWNLOAD_TIMEOUT = 60.0


@dataclass(frozen=True)
class FetchedWheel:
    planned: PlannedInstall
    path: Path
    """The verified copy, named by its label-less filename."""


def fetch_all(
    planned: Sequence[PlannedInstall],
    stage: Path,
    *,
    lock_dir: Path,
    find_links: Path | None = None,
    workers: int = 8,
) -> tuple[FetchedWheel, ...]:
    """Stage and verify every planned wheel; the first failure is raised."""

    def one(item: tuple[int, PlannedInstall]) -> FetchedWheel:
        number, plan = item
        folder = stage / str(number)
        folder.mkdir(parents=True)
        return FetchedWheel(plan, _fetch(plan, folder, lock_dir, find_links))

    with ThreadPoolExecutor(max(1, min(workers, len(planned)))) as pool:
        return tuple(pool.map(one, enumerate(planned)))


def _fetch(plan: PlannedInstall, folder: Path, lock_dir: Path, find_links: Path | None) -> Path:
    wheel = plan.wheel
    supported = {k: v for k, v in wheel.hashes.items() if k in hashlib.algorithms_guaranteed}
    if not supported:
        raise InvalidLock(
            f"{wheel.filename}: the lock gives no hash this Python can check "
            f"({', '.join(sorted(wheel.hashes)) or 'none'})"
        )
    target = folder / wheel.base_filename
    source, where = _open(wheel.filename, wheel.url, wheel.path, lock_dir, find_links)
    digests = {name: hashlib.new(name) for name in supported}
    size = 0
    with source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            for digest in digests.values():
                digest.update(chunk)
            out.write(chunk)
    for name, digest in digests.items():
        if digest.hexdigest() != supported[name].lower():
            target.unlink()
            raise LockedFileMismatch(
                f"{where}: {name} is {digest.hexdigest()}, but the lock says {supported[name]} "
                f"for {wheel.filename}: the file (or the lock) was changed; nothing was installed"
            )
    if wheel.size is not None and size != wheel.size:
        target.unlink()
        raise LockedFileMismatch(
            f"{where}: {size} bytes, but the lock says {wheel.size} for {wheel.filename}; "
            "nothing was installed"
        )
    return target


def _open(
    filename: str, url: str | None, path: str | None, lock_dir: Path, find_links: Path | None
) -> tuple[BinaryIO, str]:
    if find_links is not None:
        local = find_links / filename
        if not local.is_file():
            raise LockedFileMissing(
                f"{filename} is not in {find_links} (--find-links); nothing was installed"
            )
        return local.open("rb"), str(local)
    if path is not None:
        local = (lock_dir / path).resolve()
        if not local.is_file():
            raise LockedFileMissing(f"{local}: the locked file is missing; nothing was installed")
        return local.open("rb"), str(local)
    if url is None:
        raise InvalidLock(f"{filename}: the lock gives neither a url nor a path")
    parts = urlsplit(url)
    if parts.scheme == "file":
        local = Path(unquote(parts.path))
        if not local.is_file():
            raise LockedFileMissing(f"{url}: the locked file is missing; nothing was installed")
        return local.open("rb"), url
    if parts.scheme not in ("http", "https"):
        raise InvalidLock(f"{url}: only http(s) and file URLs can be fetched")
    try:
        return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT), url
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise LockedFileMissing(
            f"{url}: cannot download the locked file ({reason}); nothing was installed "
            "(--find-links DIR installs from a folder of wheels)"
        ) from None
