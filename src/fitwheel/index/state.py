"""The state file of a built index (`OUT/.fitwheel-index.json`): what the last build read from
the source folder, and which files of the output folder it created.

The state file is the builder's only claim to the output folder: a build deletes nothing it
does not list. Since anyone who can write the output folder can write this file, every entry
is checked when it is read: project names must be normalized names and file names plain names
inside their project's folder, so no entry can point outside the output folder. The source
folder is remembered by a digest of its path (the file is next to what is published, and a
path would say where the sources live).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fitwheel.errors import FitwheelError
from fitwheel.files import write_atomically
from fitwheel.index.filenames import is_normalized_name

STATE_FILE = ".fitwheel-index.json"
_FORMAT = 3
_OLD_FORMAT = 2

ROOT_PAGES = ("index.html", "index.json")

_FILE = re.compile(r"[^./\\\x00][^/\\\x00]*")
"""A plain file name: no folder part, not hidden (so never `.`, `..` or a state file)."""


class InvalidBuildState(FitwheelError):
    """The output folder's state file is not one `index build` wrote, or claims paths outside
    the output folder."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{path}: {problem}; this is not a state file index build wrote. Remove it (the "
            "build then treats the folder as someone else's) or pass --force"
        )
        self.path = path


def is_file_name(name: str) -> bool:
    return _FILE.fullmatch(name) is not None


def source_key(source: Path) -> str:
    return hashlib.sha256(os.fsencode(source)).hexdigest()


@dataclass(frozen=True)
class BuildState:
    source: str
    """`source_key` of the source folder the records describe."""
    files: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Path in the source folder (relative) -> what reading it gave (`scan.record_of`)."""
    projects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Project folder created by the builder -> the file names it wrote in it."""


def load_state(output: Path) -> BuildState | None:
    """The state of `output`, None when it has no state file; `InvalidBuildState` when it has
    one that is not valid."""
    path = output / STATE_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidBuildState(path, f"cannot read it ({exc.strerror})") from None
    try:
        state = json.loads(raw)
    except ValueError:
        raise InvalidBuildState(path, "not JSON") from None
    if isinstance(state, dict) and state.get("format") == _OLD_FORMAT:
        state = _from_old_format(path, state)
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise InvalidBuildState(path, f"not format {_FORMAT}")
    source, files, projects = state.get("source"), state.get("files"), state.get("projects")
    if not isinstance(source, str) or not isinstance(files, dict):
        raise InvalidBuildState(path, "no source or files")
    if not isinstance(projects, dict):
        raise InvalidBuildState(path, "no projects")
    for relative, record in files.items():
        if not _is_relative(relative) or not isinstance(record, dict):
            raise InvalidBuildState(path, f"source entry {relative!r} is not a relative path")
    return BuildState(source, MappingProxyType(files), MappingProxyType(_owned(path, projects)))


def _owned(path: Path, projects: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The state's project folders and their files, each name checked."""
    owned: dict[str, tuple[str, ...]] = {}
    for project, names in projects.items():
        if not is_normalized_name(project):
            raise InvalidBuildState(path, f"{project!r} is not a project folder name")
        if not isinstance(names, list) or not all(
            isinstance(n, str) and is_file_name(n) for n in names
        ):
            raise InvalidBuildState(path, f"project {project!r} lists a name that is not a file")
        owned[project] = tuple(names)
    return owned


def _from_old_format(path: Path, state: dict[str, Any]) -> dict[str, Any]:
    """A state file of the previous format (the source folder's path, a flat list of output
    paths) in this one; its paths are checked as strictly (`project/file` or a root page)."""
    source, outputs = state.get("source"), state.get("outputs")
    if not isinstance(source, str) or not isinstance(outputs, list):
        raise InvalidBuildState(path, f"format {_OLD_FORMAT} without source or outputs")
    projects: dict[str, list[str]] = {}
    for output in outputs:
        if output in ROOT_PAGES:
            continue
        project, slash, name = output.partition("/") if isinstance(output, str) else ("", "", "")
        if not slash or not is_normalized_name(project) or not is_file_name(name):
            raise InvalidBuildState(path, f"output {output!r} is not a file of a project folder")
        projects.setdefault(project, []).append(name)
    return {
        "format": _FORMAT,
        "source": source_key(Path(source)),
        "files": state.get("files"),
        "projects": projects,
    }


def save_state(output: Path, state: BuildState) -> None:
    document = {
        "format": _FORMAT,
        "source": state.source,
        "files": dict(state.files),
        "projects": {name: list(files) for name, files in sorted(state.projects.items())},
    }
    try:
        write_atomically(output / STATE_FILE, json.dumps(document, sort_keys=True).encode())
    except OSError as exc:
        raise FitwheelError(f"cannot write {output / STATE_FILE}: {exc.strerror}") from None


def _is_relative(path: object) -> bool:
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))
