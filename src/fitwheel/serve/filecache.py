"""Small files the proxy streamed, kept in memory by their sha256 and served from there.

A file under a URL that names its sha256 can never change, so once its bytes have been
checked against that hash they can be handed out again without asking the upstream: for the
small wheels and `.metadata` sidecars that make up most of an install, the upstream request
is most of what a download costs. Only whole bodies whose hash matches are kept; the largest
file kept and the bytes held in all are bounded, the least recently used going first.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

MAX_FILE_BYTES = 1 << 20
"""The largest body kept: bigger files are streamed every time (chunk by chunk)."""

MAX_TOTAL_BYTES = 64 << 20
"""Bytes held in all."""

KEPT_HEADERS = ("Content-Type", "Content-Encoding", "ETag", "Last-Modified")
"""The upstream's response headers kept with a body (its length is the body's)."""


@dataclass(frozen=True)
class CachedFile:
    body: bytes
    headers: Mapping[str, str]


class FileCache:
    """Verified bodies by sha256 (hex), least recently used dropped first."""

    def __init__(
        self, max_file_bytes: int = MAX_FILE_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self._files: OrderedDict[str, CachedFile] = OrderedDict()
        self._total = 0

    def get(self, sha256: str) -> CachedFile | None:
        cached = self._files.get(sha256)
        if cached is not None:
            self._files.move_to_end(sha256)
        return cached

    def put(self, sha256: str, body: bytes, headers: Mapping[str, str]) -> bool:
        """Keep `body` if it is small enough and its sha256 is `sha256`; say whether it was."""
        if len(body) > self.max_file_bytes or sha256 in self._files:
            return False
        if hashlib.sha256(body).hexdigest() != sha256:
            return False
        kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
        self._files[sha256] = CachedFile(body, MappingProxyType(kept))
        self._total += len(body)
        while self._total > self.max_total_bytes:
            _, dropped = self._files.popitem(last=False)
            self._total -= len(dropped.body)
        return True

    def __len__(self) -> int:
        return len(self._files)
