"""Worker processes for a large build that end with the build: a killed build leaves no
orphan still writing into the output folder (or holding the terminal's pipes open)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Worker initializer: end this process when `parent` ends."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def map_in_workers(
    function: Callable[[T], R], items: Iterable[T], *, workers: int, chunksize: int
) -> Iterator[R]:
    """`map(function, items)` in `workers` processes, results in order."""
    pool = ProcessPoolExecutor(workers, initializer=_die_with, initargs=(os.getpid(),))
    try:
        yield from pool.map(function, items, chunksize=chunksize)
    finally:
        pool.shutdown(cancel_futures=True)
