"""The index options inside pip requirements files (`-r`) and constraints files (`-c`).

pip applies an option line when it reads it, after the command line: a file's `--index-url`
*replaces* the command line's, `--extra-index-url` adds to it, `--no-index` empties it (and
stops later index lines). Constraints files are read first, then requirements files in
command-line order, each nested `-r`/`-c` where it appears (its path relative to the file
that names it). `fitwheel pip` reads the files the same way to know the indexes pip would
use, then adds one last requirements file of its own that sets `--index-url` to the proxy:
read last, it replaces every index the user's files set, so none of them bypasses the proxy.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fitwheel.installers import UnroutableIndex
from fitwheel.installers.options import Option, extract

INDEX_URL = Option(("--index-url",), short="-i")
EXTRA_INDEX_URL = Option(("--extra-index-url",))
NO_INDEX = Option(("--no-index",), takes_value=False)
REQUIREMENT = Option(("--requirement",), short="-r")
CONSTRAINT = Option(("--constraint",), short="-c")

# pip's own patterns (pip._internal.req.req_file): comments, and ${VAR} expansion.
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_MAX_DEPTH = 32


@dataclass(frozen=True)
class IndexState:
    """What pip would search: its index URLs in order, or no index at all."""

    index_urls: tuple[str, ...]
    no_index: bool = False


def apply_files(
    state: IndexState,
    requirements: Sequence[str],
    constraints: Sequence[str],
    env: Mapping[str, str],
) -> IndexState:
    """`state` (from the command line and configuration) after pip reads the given files."""
    for path in constraints:
        state = _apply_file(state, path, env, depth=0)
    for path in requirements:
        state = _apply_file(state, path, env, depth=0)
    return state


def _is_url(path: str) -> bool:
    return urlsplit(path).scheme.lower() in ("file", "http", "https")


def _local(path: str) -> Path:
    scheme = urlsplit(path).scheme.lower()
    if scheme == "file":
        return Path(unquote(urlsplit(path).path))
    if scheme in ("http", "https"):
        raise UnroutableIndex(
            f"requirements file {path}: fitwheel cannot see which indexes a remote file sets; "
            "download it and pass the local copy with -r"
        )
    return Path(path)


def _option_lines(text: str, env: Mapping[str, str]) -> list[list[str]]:
    """The option lines of a requirements file (continuations joined, comments dropped,
    `${VAR}` expanded), each split as pip splits it."""
    lines: list[list[str]] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw
        if line.endswith("\\") and not _COMMENT_RE.match(line):
            pending = line[:-1]
            continue
        pending = ""
        line = _COMMENT_RE.sub("", line).strip()
        line = _ENV_VAR_RE.sub(lambda m: env.get(m[1], m[0]), line)
        if line.startswith("-"):
            try:
                lines.append(shlex.split(line))
            except ValueError:
                continue  # pip rejects the line itself, with its own message
    return lines


def _apply_file(state: IndexState, path: str, env: Mapping[str, str], depth: int) -> IndexState:
    file = _local(path)
    if depth > _MAX_DEPTH:
        return state  # a cycle: pip stops it with its own error
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return state  # pip reports a missing or unreadable file itself
    for words in _option_lines(text, env):
        found = extract(words, (INDEX_URL, EXTRA_INDEX_URL, NO_INDEX, REQUIREMENT, CONSTRAINT))
        urls, no_index = list(state.index_urls), state.no_index
        if NO_INDEX in found.flags:
            urls, no_index = [], True
        if found.values.get(INDEX_URL) and not no_index:
            urls = [found.values[INDEX_URL][-1]]
        if not no_index:
            urls.extend(found.values.get(EXTRA_INDEX_URL, []))
        state = IndexState(tuple(urls), no_index)
        for nested in (*found.values.get(REQUIREMENT, []), *found.values.get(CONSTRAINT, [])):
            target = nested
            if not _is_url(nested) and not os.path.isabs(nested):
                target = str(file.parent / nested)
            state = _apply_file(state, target, env, depth + 1)
    return state
