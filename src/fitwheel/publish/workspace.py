"""A build's private copy of the project: backends write into their source tree (`build/`,
`*.egg-info`), so builds side by side each need their own."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

# VCS data, virtual environments and earlier build output (a stale `build/` would be reused by
# setuptools with the old flags) are never copied.
IGNORED_AT_ROOT = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "build"})
IGNORED_ANYWHERE = ("__pycache__", "*.egg-info", ".fitwheel-build-*")


def _ignore(root: Path, extra: frozenset[str]) -> Callable[[str, list[str]], set[str]]:
    patterns = shutil.ignore_patterns(*IGNORED_ANYWHERE)

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = set(patterns(directory, names))
        if Path(directory) == root:
            ignored |= (IGNORED_AT_ROOT | extra) & set(names)
        return ignored

    return ignore


def copy_project(project: Path, destination: Path, *, skip: Iterable[str] = ()) -> Path:
    """Copy `project` to `destination` (links stay links), leaving out what a build must not
    see; `skip` names more top-level entries (the output folder, when it is inside)."""
    shutil.copytree(project, destination, symlinks=True, ignore=_ignore(project, frozenset(skip)))
    return destination
