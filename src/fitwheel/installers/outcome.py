"""What the installer really installed, read back from the environment after it finished.

The proxy knows the build it chose for each release of every page it served (`Proxy.offered`)
and which files it streamed (`Proxy.handed_out`). An installer can take a build without asking
the proxy for the file: an index family's member file comes straight from the member's index, a
warm cache answers from disk, a lock or a `--hash` pins one machine's bytes. So the report
after a run is read from the environment itself: each `.dist-info` written during the run, of
a project the proxy chose a build for, is compared with that choice. A match is named
(`torch 2.9.0 -> cu126 (why)`); a mismatch is a warning, never silence.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from fitwheel.errors import FitwheelError
from fitwheel.installers.options import Option, extract

if TYPE_CHECKING:
    from fitwheel.serve.proxy import ChosenBuild

# This runs after every install: it reads a few `.dist-info` names and `variant.json` labels
# with the standard library, and imports `packaging` only when two version strings differ
# (`1.0` and `1.0.0` are one version).
_MAX_VARIANT_JSON = 4 << 20

_PYTHON = Option(("--python",), short="-p")
_TARGET = Option(("--target",), short="-t")
_ELSEWHERE = (Option(("--prefix",)), Option(("--root",)), Option(("--user",), takes_value=False))
_UV_ELSEWHERE = (Option(("--prefix",)), Option(("--system",), takes_value=False))
_CLOCK_SLACK = 2.0
"""Seconds a `.dist-info` folder's time may precede the run's start (coarse file clocks)."""


class Outcome(NamedTuple):
    """The wrapper's report: builds named, and builds that are not what this machine gets."""

    chosen: tuple[str, ...]
    mismatched: tuple[str, ...]


class InstalledBuild(NamedTuple):
    """A distribution as installed: its version, variant label (None: no readable
    `variant.json` with one label) and when its `.dist-info` folder was written."""

    name: str
    version: str
    label: str | None
    modified: float


def _normalized(name: str) -> str:
    """PEP 503's normalized name (what `packaging.utils.canonicalize_name` gives)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_builds(paths: Iterable[Path], names: Iterable[str]) -> dict[str, InstalledBuild]:
    """The installed distributions among `names`, by normalized name (the first on the path)."""
    wanted = {_normalized(name) for name in names}
    found: dict[str, InstalledBuild] = {}
    for folder in paths:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name, _, version = entry.name.removesuffix(".dist-info").rpartition("-")
            key = _normalized(name)
            if not entry.name.endswith(".dist-info") or key not in wanted or key in found:
                continue
            try:
                modified = entry.stat().st_mtime
            except OSError:
                continue
            found[key] = InstalledBuild(name, version, _label(Path(entry.path)), modified)
    return found


def _label(dist_info: Path) -> str | None:
    try:
        with open(dist_info / "variant.json", "rb") as stream:
            document = json.loads(stream.read(_MAX_VARIANT_JSON))
    except (OSError, ValueError):
        return None
    variants = document.get("variants") if isinstance(document, dict) else None
    if isinstance(variants, dict) and len(variants) == 1:
        (label,) = variants
        return label if isinstance(label, str) else None
    return None


def environment(installer: str, args: Sequence[str], env: Mapping[str, str]) -> list[Path] | None:
    """The folders the installer installs into, or None where that is not known cheaply
    (`--prefix`, `--root`, `--user`, `uv --system`, a Python version request)."""
    pip_options = (_PYTHON, _TARGET, *_ELSEWHERE)
    found = extract(args, pip_options if installer == "pip" else (_PYTHON, _TARGET, *_UV_ELSEWHERE))
    if found.flags or any(option in found.values for option in (*_ELSEWHERE, *_UV_ELSEWHERE)):
        return None
    if _TARGET in found.values:
        return [Path(found.values[_TARGET][-1])]
    python = _interpreter(installer, found.values.get(_PYTHON, [None])[-1], env)
    if python is None:
        return None
    return _site_folders(python)


def _site_folders(python: str) -> list[Path] | None:
    """Where `python` installs, without starting it when that is known: this interpreter's
    own folders, or a virtual environment's `lib/pythonX.Y/site-packages`."""
    if python == sys.executable:
        import sysconfig

        return [
            Path(p) for p in dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
        ]
    root = Path(python).parent.parent
    if (root / "pyvenv.cfg").is_file():
        found = sorted(root.glob("lib/python*/site-packages"))
        if found:
            return found
    from fitwheel.verify import environment_paths  # starts `python`: the rare case

    try:
        return environment_paths(python)
    except FitwheelError:
        return None


def _interpreter(installer: str, given: str | None, env: Mapping[str, str]) -> str | None:
    if given is not None:
        path = Path(given)
        if path.is_dir():
            path = path / "bin" / "python"
        return str(path) if path.is_file() else None  # uv's `-p 3.12` asks for a version
    if installer == "pip":
        return sys.executable
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if env.get(variable):
            return str(Path(env[variable]) / "bin" / "python")
    for folder in (Path.cwd(), *Path.cwd().parents):
        candidate = folder / ".venv" / "bin" / "python"
        if candidate.is_file():
            return str(candidate)
    return None


def _same_release(installed: str, chosen: str) -> bool:
    """Whether `installed` (a `.dist-info` version, maybe with a local part such as `+cu126`)
    is the release `chosen` names."""
    public = installed.partition("+")[0]
    if public == chosen:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        return Version(public) == Version(chosen)
    except InvalidVersion:
        return False


def outcome(
    offered: Mapping[str, Mapping[str, ChosenBuild]],
    handed_out: Iterable[ChosenBuild],
    paths: Sequence[Path] | None,
    since: float,
) -> Outcome:
    """Compare what was installed during the run (after `since`, a `time.time()`) in `paths`
    with what the proxy offered; without `paths`, name the files the proxy handed out."""
    named: dict[str, ChosenBuild] = {_normalized(b.project): b for b in handed_out}
    installed = installed_builds(paths, offered.keys()) if paths is not None else {}
    chosen, mismatched = [], []
    for project in sorted({*named, *installed}):
        build = installed.get(project)
        if build is None or build.modified < since - _CLOCK_SLACK:
            if project in named:
                chosen.append(str(named[project]))
            continue
        expected = next(
            (b for v, b in offered[project].items() if _same_release(build.version, v)), None
        )
        if expected is None:
            continue  # a release the proxy did not choose among (a plain wheel, a pin)
        label = build.label if build.label is not None else _local(build.version)
        if label == expected.label:
            chosen.append(str(expected))
        else:
            have = f"the {label} build" if label else "a build without a label"
            mismatched.append(
                f"{expected.project} {expected.version} was installed as {have}, not "
                f"{expected.label}, which fits this machine ({expected.reason}): the installer "
                "took it from its cache or a lock; `fitwheel verify` checks the environment"
            )
    return Outcome(tuple(chosen), tuple(mismatched))


def _local(version: str) -> str | None:
    """The local part of a version (`cu126` of `2.9.0+cu126`), as `packaging` spells it."""
    local = version.partition("+")[2]
    return re.sub(r"[-_]", ".", local).lower() or None


def hashes_pinned(args: Sequence[str]) -> bool:
    """Whether the installer checks hashes a file pinned: `--require-hashes`, or a `--hash`
    in a requirements file it reads (`-r FILE`), where a profile change shows as a mismatch."""
    if "--require-hashes" in args:
        return True
    requirement_files = extract(args, (Option(("--requirement",), short="-r"),)).values
    for name in next(iter(requirement_files.values()), []):
        try:
            with open(name, encoding="utf-8", errors="replace") as stream:
                if "--hash" in stream.read(4 << 20):
                    return True
        except OSError:
            continue
    return False
