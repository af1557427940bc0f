"""Where the dynamic loader would find a driver library, without loading it (no ctypes here).

Looking first lets a machine without the library skip the child process altogether, and gives
the file identity that keys the disk cache. The order is the loader's: `LD_LIBRARY_PATH`, then
`/etc/ld.so.cache`, then the default directories; WSL keeps its libraries in `/usr/lib/wsl/lib`.
"""

from __future__ import annotations

import os

WSL_LIBRARY_DIR = "/usr/lib/wsl/lib"
_DEFAULT_DIRS = (
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
)


def find_library(soname: str, environ: dict[str, str] | None = None) -> list[str]:
    """Candidate paths of `soname`, in the loader's search order; [] when there is none."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    for directory in env.get("LD_LIBRARY_PATH", "").split(":"):
        if directory:
            _add_if_file(found, os.path.join(directory, soname))
    found.extend(path for path in _ld_so_cache_paths(soname) if path not in found)
    for directory in (*_DEFAULT_DIRS, WSL_LIBRARY_DIR):
        _add_if_file(found, os.path.join(directory, soname))
    return found


def file_identity(path: str) -> list[object]:
    """`[realpath, size, mtime_ns, inode]`: changes when the file is replaced (driver upgrade)."""
    try:
        real = os.path.realpath(path)
        status = os.stat(real)
    except OSError:
        return [path, None]
    return [real, status.st_size, status.st_mtime_ns, status.st_ino]


def _add_if_file(found: list[str], path: str) -> None:
    if path not in found and os.path.isfile(path):
        found.append(path)


def _ld_so_cache_paths(soname: str) -> list[str]:
    # The cache's string table holds each library's full path; finding "/<soname>\0" and reading
    # back to the previous NUL gives them without parsing the entry table.
    try:
        with open("/etc/ld.so.cache", "rb") as stream:
            data = stream.read()
    except OSError:
        return []
    needle = b"/" + soname.encode() + b"\0"
    paths: list[str] = []
    start = data.find(needle)
    while start != -1:
        begin = data.rfind(b"\0", 0, start) + 1
        path = data[begin : start + len(needle) - 1].decode("utf-8", "replace")
        if path.startswith("/") and path not in paths and os.path.isfile(path):
            paths.append(path)
        start = data.find(needle, start + 1)
    return paths
