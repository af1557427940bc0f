"""The lock that makes builds of one output folder take turns (`OUT/.fitwheel-index.lock`).

An advisory `flock`: the kernel drops it when its holder exits, killed or not, so a stale lock
cannot outlive a build. Where there is no `flock` (Windows), builds are not serialised.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fitwheel.errors import FitwheelError

if sys.platform != "win32":
    import fcntl

LOCK_FILE = ".fitwheel-index.lock"


@contextmanager
def build_lock(output: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold `output`'s lock for the block; `on_wait` is called once if another build has it."""
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(output / LOCK_FILE, flags, 0o666)
    except OSError as exc:
        raise FitwheelError(
            f"cannot open the build lock {output / LOCK_FILE}: {exc.strerror}"
        ) from None
    try:
        if sys.platform != "win32":
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
