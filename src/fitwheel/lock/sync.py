"""`fitwheel sync`: a lock into one environment: plan offline, fetch and verify all, install."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from fitwheel.errors import LockNotForTarget
from fitwheel.index.network import NetworkOptions
from fitwheel.lock.document import read_lock
from fitwheel.lock.fetch import fetch_all
from fitwheel.lock.install import install_all, scheme_of
from fitwheel.lock.plan import PlannedInstall, plan_install
from fitwheel.select import Target


@dataclass(frozen=True)
class SyncResult:
    planned: tuple[PlannedInstall, ...]
    installed: bool


def sync(
    lock_path: str | Path,
    target: Target,
    *,
    python: str,
    find_links: str | Path | None = None,
    dry_run: bool = False,
    network: NetworkOptions | None = None,
) -> SyncResult:
    """Install what `target` needs from the lock into the environment of `python`.

    Nothing is installed unless every planned file was fetched and matched its locked hash.
    """
    path = Path(lock_path)
    planned = plan_install(read_lock(path), target, where=str(path))
    if dry_run:
        return SyncResult(planned, installed=False)
    scheme = scheme_of(python)
    wanted = ".".join(target.python_version.split(".")[:2])
    if scheme["python"] != wanted:
        raise LockNotForTarget(
            f"{python} is Python {scheme['python']}, but the target profile describes Python "
            f"{wanted}: pass the matching --python or --profile"
        )
    _allow_open_files(len(planned))
    with ExitStack() as stack:
        fetched = fetch_all(
            planned,
            stack,
            lock_dir=path.parent,
            find_links=None if find_links is None else Path(find_links),
            network=network,
        )
        install_all(fetched, python, scheme)
    return SyncResult(planned, installed=True)


def _allow_open_files(count: int) -> None:
    """Every verified file stays open until it is installed: raise the soft limit on open
    files towards the hard one when a big lock needs it (as uv does)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256  # the interpreter's own files, sockets, the thread pools
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
