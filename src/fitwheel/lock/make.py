"""`fitwheel lock`: resolve for every target, merge, and write the lock byte-stable."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fitwheel.files import write_atomically
from fitwheel.index.network import NetworkOptions
from fitwheel.lock.document import dumps_lock
from fitwheel.lock.merge import merge
from fitwheel.lock.model import Lock
from fitwheel.lock.resolve import LockTarget, Requirements, resolve_targets


def make_lock(
    requirements: Requirements,
    index_urls: Sequence[str],
    targets: Sequence[LockTarget],
    *,
    network: NetworkOptions | None = None,
) -> Lock:
    """One lock holding every target's builds."""
    return merge(resolve_targets(requirements, index_urls, targets, network=network))


def write_lock(lock: Lock, path: str | Path) -> None:
    """Write atomically: a reader never sees half a lock."""
    write_atomically(path, dumps_lock(lock).encode("utf-8"))
