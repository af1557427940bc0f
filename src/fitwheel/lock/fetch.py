"""The planned wheels, from a wheel folder or their locked URLs, each checked against its hash.

Every file is read in full and verified before anything is installed: a wrong hash or size,
or a missing file, stops the sync with the environment untouched. Each verified file stays
open, and is installed from that open file: a file from the wheel folder is read where it is
(no copy), a download is kept in an anonymous temporary file; what was checked is what gets
installed.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from fitwheel.errors import InvalidLock, LockedFileMismatch, LockedFileMissing
from fitwheel.index.credentials import Credentials
from fitwheel.index.network import NetworkOptions
from fitwheel.lock.model import LockedFile
from fitwheel.lock.plan import PlannedInstall

CHUNK = 1 << 20
DOWNLOAD_TIMEOUT = 60.0


@dataclass(frozen=True)
class FetchedWheel:
    planned: PlannedInstall
    file: BinaryIO
    """The verified bytes, open at their start."""


def fetch_all(
    planned: Sequence[PlannedInstall],
    stack: ExitStack,
    *,
    lock_dir: Path,
    find_links: Path | None = None,
    credentials: Credentials | None = None,
    network: NetworkOptions | None = None,
    workers: int = 8,
) -> tuple[FetchedWheel, ...]:
    """Fetch and verify every planned wheel; the first failure is raised. The open files are
    closed with `stack`. Downloads log in with `credentials` (default: the netrc file's) and
    go through `network`'s proxies and certificates (default: the environment's)."""
    login = Credentials() if credentials is None else credentials
    network = network or NetworkOptions.from_environment()
    if find_links is None and any(p.wheel.url for p in planned):
        network.ssl_context()  # a bad CA bundle fails once, here, not once per file
    # Asked here, once per file: the netrc file is read lazily, which is not thread-safe.
    headers = [
        login.headers(plan.wheel.url) if find_links is None and plan.wheel.url else {}
        for plan in planned
    ]
    with ThreadPoolExecutor(max(1, min(workers, len(planned)))) as pool:
        futures = [
            pool.submit(_fetch, plan, lock_dir, find_links, header, network)
            for plan, header in zip(planned, headers, strict=True)
        ]
    fetched, failures = [], []
    for plan, future in zip(planned, futures, strict=True):
        failure = future.exception()
        if failure is None:
            file = future.result()
            stack.callback(file.close)
            fetched.append(FetchedWheel(plan, file))
        else:
            failures.append(failure)
    if failures:
        raise failures[0]
    return tuple(fetched)


def _fetch(
    plan: PlannedInstall,
    lock_dir: Path,
    find_links: Path | None,
    headers: dict[str, str],
    network: NetworkOptions,
) -> BinaryIO:
    wheel = plan.wheel
    supported = {k: v for k, v in wheel.hashes.items() if k in hashlib.algorithms_guaranteed}
    if not supported:
        raise InvalidLock(
            f"{wheel.filename}: the lock gives no hash this Python can check "
            f"({', '.join(sorted(wheel.hashes)) or 'none'})"
        )
    source, where = _open(wheel.filename, wheel.url, wheel.path, lock_dir, find_links, headers)
    if source is None:
        assert wheel.url is not None
        source, where = _download(wheel.url, headers, network), wheel.url
    if source.seekable():
        kept = source
    else:
        with source:
            kept = _copy(source)
    try:
        _verify(kept, wheel, supported, where)
    except BaseException:
        kept.close()
        raise
    return kept


def _copy(source: BinaryIO) -> BinaryIO:
    copy = tempfile.TemporaryFile(prefix="fitwheel-sync-")  # noqa: SIM115 (returned open)
    shutil.copyfileobj(source, copy, CHUNK)
    copy.seek(0)
    return copy


def _verify(file: BinaryIO, wheel: LockedFile, supported: dict[str, str], where: str) -> None:
    digests = {name: hashlib.new(name) for name in supported}
    size = 0
    while chunk := file.read(CHUNK):
        size += len(chunk)
        for digest in digests.values():
            digest.update(chunk)
    file.seek(0)
    for name, digest in digests.items():
        if digest.hexdigest() != supported[name].lower():
            raise LockedFileMismatch(
                f"{where}: {name} is {digest.hexdigest()}, but the lock says {supported[name]} "
                f"for {wheel.filename}: the file (or the lock) was changed; nothing was installed"
            )
    if wheel.size is not None and size != wheel.size:
        raise LockedFileMismatch(
            f"{where}: {size} bytes, but the lock says {wheel.size} for {wheel.filename}; "
            "nothing was installed"
        )


def _open(
    filename: str,
    url: str | None,
    path: str | None,
    lock_dir: Path,
    find_links: Path | None,
    headers: dict[str, str],
) -> tuple[BinaryIO | None, str]:
    """The local file to read (None: download `url`)."""
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
    return None, url


def _download(url: str, headers: dict[str, str], network: NetworkOptions) -> BinaryIO:
    """`url`'s body, through `network`'s proxy for it and verified with its certificates."""
    # Imported here: it costs more start-up than the rest of a sync from a wheel folder.
    import ssl
    import urllib.error
    import urllib.request

    proxy = network.proxy_for(url)
    context = ssl._create_unverified_context() if network.is_trusted(url) else network.ssl_context()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({urlsplit(url).scheme: proxy} if proxy else {}),
        urllib.request.HTTPSHandler(context=context),
    )
    try:
        request = urllib.request.Request(url, headers=headers)
        answer: BinaryIO = opener.open(request, timeout=DOWNLOAD_TIMEOUT)
        return answer
    except urllib.error.HTTPError as exc:
        hint = (
            "the index wants a login: give it in your netrc file"
            if exc.code in (401, 403)
            else "--find-links DIR installs from a folder of wheels"
        )
        raise LockedFileMissing(
            f"{url}: cannot download the locked file (HTTP {exc.code} {exc.reason}); "
            f"nothing was installed ({hint})"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, ssl.SSLCertVerificationError):
            why = reason.verify_message or reason.reason
            reason = f"certificate not trusted ({why}); pass --cert FILE or set SSL_CERT_FILE"
        raise LockedFileMissing(
            f"{url}: cannot download the locked file ({reason}); nothing was installed "
            "(--find-links DIR installs from a folder of wheels)"
        ) from None
