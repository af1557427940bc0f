"""The indexes a user's installers are set up for: the default upstreams of `fitwheel explain`
and `fitwheel serve` when no index is named on their command line.

Read in this order, the first that names an index winning whole:

1. pip's: `PIP_INDEX_URL` / `PIP_EXTRA_INDEX_URL`, and `index-url` / `extra-index-url` in pip's
   configuration files (`[global]` or `[install]`), exactly as `fitwheel pip` reads them;
2. uv's: `UV_INDEX`, `UV_EXTRA_INDEX_URL`, `UV_INDEX_URL` / `UV_DEFAULT_INDEX`, and the
   indexes of uv's configuration files (`uv.toml`, `[tool.uv]`), as `fitwheel uv pip install`
   reads them (named indexes with their `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD` login);
3. PyPI (https://pypi.org/simple/).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fitwheel.installers import UnroutableIndex, pip, uv

PYPI = "https://pypi.org/simple/"


@dataclass(frozen=True)
class UserIndexes:
    """Index URLs, highest precedence first, and where they were read."""

    urls: tuple[str, ...]
    source: str


def user_indexes(
    env: Mapping[str, str] | None = None, *, cwd: Path | None = None, prefix: str | None = None
) -> UserIndexes:
    """The indexes pip, else uv, is set up for; else PyPI."""
    env = os.environ if env is None else env
    settings = pip.configured("install", env, prefix or sys.prefix)
    if settings.get("no-index", "").lower() not in pip.TRUE and (
        settings.get("index-url") or settings.get("extra-index-url")
    ):
        index = settings.get("index-url", PYPI)
        extras = settings.get("extra-index-url", "").split()
        return UserIndexes(tuple(dict.fromkeys((index, *extras))), "pip's configuration")
    try:
        planned = uv.plan(["pip", "install"], env, cwd)
    except UnroutableIndex:
        # uv's files add an index beside the others, which `fitwheel uv` refuses; here
        # only uv's environment variables are read then (docs/networks.md says so).
        planned = uv.plan(["pip", "install"], {**env, "UV_NO_CONFIG": "1"}, cwd)
    if planned.upstreams and planned.upstreams != (PYPI,):
        return UserIndexes(planned.upstreams, "uv's configuration")
    return UserIndexes((PYPI,), "the default, PyPI")
