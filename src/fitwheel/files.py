"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The one helper every writer uses (profiles, variants.json, variant wheels, the driver cache,
index pages). The new file gets the mode a plain `open()` would give it (0666 less the umask),
not `mkstemp`'s 0600: published files must be readable by the web server that serves them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def is_temporary(name: str) -> bool:
    """Whether a file name is one of `atomic_file`'s temporaries (what a killed writer leaves)."""
    return name.startswith(".") and name.endswith(".tmp")


def _umask() -> int:
    # There is no way to read the umask without setting it; set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | Path) -> Iterator[BinaryIO]:
    """Write `path` through a temporary file beside it, renamed over it on success.

    On any exception the temporary file is removed and `path` is left as it was.
    """
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(path: str | Path, data: bytes) -> None:
    """`data` into `path`, atomically (see `atomic_file`)."""
    with atomic_file(path) as stream:
        stream.write(data)
