"""Decoding JSON and TOML from outside with bounds: size, nesting depth, integer digits.

Every document fitwheel reads from a place the user does not control (variants files, wheels'
`variant.json`, profiles, index pages, caches) goes through here, so a hostile or broken one
is a one-line error of the caller's class, never a `RecursionError`, a traceback from a huge
integer or unbounded memory. Pure code: it takes bytes or text, not paths.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fitwheel.errors import FitwheelError

MAX_DEPTH = 32
"""Deepest nesting of arrays/objects (tables) accepted; real documents use 4 or 5 levels."""
MAX_DOCUMENT_BYTES = 256 << 20
"""Largest document accepted: a variants.json of 100,000 labels is about 30 MB."""

# A JSON string, unrolled so that long strings cost one pass and no backtracking.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def _json_depth_within(data: bytes, limit: int) -> bool:
    """Whether the JSON text nests at most `limit` deep (malformed text: left to the parser).

    Strings removed, then only brackets kept; each pass removes the innermost pairs, so the
    number of passes is the depth. Each pass is one C-level scan, and at most `limit` run.
    """
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", data))
    for _ in range(limit):
        if not brackets:
            return True
        brackets, removed = _INNERMOST.subn(b"", brackets)
        if not removed:
            return True  # unbalanced: the parser names the error
    return not brackets


def _depth_within(value: Any, limit: int) -> bool:
    """Whether a decoded value nests at most `limit` deep (iterative: no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return False
        pending.extend((child, depth + 1) for child in children)
    return True


def _check_size(data: bytes | str, where: str, what: str, error: type[FitwheelError]) -> None:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise error(
            f"{where}: {what} document of {len(data)} bytes is larger than the "
            f"{MAX_DOCUMENT_BYTES} fitwheel reads"
        )


def loads_json(
    data: bytes | str,
    *,
    where: str,
    error: type[FitwheelError],
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Decode JSON, or raise `error` naming `where` and what was wrong."""
    _check_size(data, where, "JSON", error)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not _json_depth_within(raw, max_depth):
        raise error(f"{where}: not valid JSON: nested more than {max_depth} levels deep")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # ValueError covers integers past Python's digit limit (4,300).
        raise error(f"{where}: not valid JSON: {_one_line(exc)}") from None


def loads_toml(
    data: bytes | str,
    *,
    where: str,
    error: type[FitwheelError],
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Decode TOML, or raise `error` naming `where` and what was wrong."""
    import tomllib  # here: JSON readers (the wrappers' read-back of installed builds) skip it

    _check_size(data, where, "TOML", error)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        document = tomllib.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # tomllib raises a plain ValueError for integers past the digit limit.
        raise error(f"{where}: not valid TOML: {_one_line(exc)}") from None
    if not _depth_within(document, max_depth):
        raise error(f"{where}: not valid TOML: nested more than {max_depth} levels deep")
    return document


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"
