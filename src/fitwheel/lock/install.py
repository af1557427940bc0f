"""Verified wheels into an environment with `installer`: its scheme asked of its interpreter,
every archive checked before the first is installed, an installed release of the same
project removed first."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme
from packaging.utils import canonicalize_name

from fitwheel.errors import InstallerNotFound, InvalidWheel
from fitwheel.lock.fetch import FetchedWheel

_SCHEME_SCRIPT = (
    "import json, sys, sysconfig; p = sysconfig.get_paths(); "
    "print(json.dumps({'purelib': p['purelib'], 'platlib': p['platlib'], "
    "'headers': p['include'], 'scripts': p['scripts'], 'data': p['data'], "
    "'python': '%d.%d' % sys.version_info[:2]}))"
)


class _SharedFolders(SchemeDictionaryDestination):
    """Wheels installed side by side may share a folder (a namespace package); installer
    creates a missing parent without `exist_ok`, so it is created here first, race-free."""

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        (Path(self.scheme_dict[scheme]) / path).parent.mkdir(parents=True, exist_ok=True)
        return super().write_to_fs(scheme, path, stream, is_executable)


def scheme_of(python: str) -> dict[str, str]:
    """Where `python` installs each part of a wheel (`installer`'s scheme names), and its
    `python` version (X.Y)."""
    try:
        done = subprocess.run(
            [python, "-I", "-c", _SCHEME_SCRIPT],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError as exc:
        raise InstallerNotFound(f"cannot run {python}: {exc.strerror}") from None
    if done.returncode != 0:
        raise InstallerNotFound(f"{python} cannot report its install scheme: {done.stderr.strip()}")
    paths: dict[str, str] = json.loads(done.stdout)
    return paths


def _installed(scheme: Mapping[str, str]) -> dict[str, list[tuple[Path, Path]]]:
    """Project -> (library folder, `.dist-info` folder) of what the environment has now."""
    found: dict[str, list[tuple[Path, Path]]] = {}
    for library in dict.fromkeys((scheme["purelib"], scheme["platlib"])):
        root = Path(library)
        for info in root.glob("*.dist-info") if root.is_dir() else ():
            name = canonicalize_name(info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
            found.setdefault(name, []).append((root, info))
    return found


def _remove(installed: Sequence[tuple[Path, Path]], prefix: Path) -> None:
    """Uninstall by RECORD, so two releases of a project never sit side by side. Only files
    inside the environment (`prefix`) are removed: its scripts, never a path outside it."""
    for root, info in installed:
        record = info / "RECORD"
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
        for line in lines:
            relative = line.rsplit(",", 2)[0]
            path = (root / relative).resolve()
            if path.is_file() and prefix in path.parents:
                path.unlink()
        shutil.rmtree(info, ignore_errors=True)


def _checked(wheel: FetchedWheel) -> None:
    """The archive is a wheel `installer` will take: readable, its dist-info named for the
    release, every member listed in RECORD (contents are checked while installing)."""
    try:
        with _opened(wheel) as source:
            source.validate_record(validate_contents=False)
    except (InstallerError, zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise InvalidWheel(
            f"{wheel.planned.wheel.filename}: not a wheel installer can install ({exc}); "
            "nothing was installed"
        ) from None


@contextmanager
def _opened(wheel: FetchedWheel) -> Iterator[WheelFile]:
    wheel.file.seek(0)
    with zipfile.ZipFile(wheel.file) as archive:
        # installer reads the name and version from the filename, and knows no labels.
        archive.filename = wheel.planned.wheel.base_filename
        yield WheelFile(archive)


def install_all(
    wheels: Sequence[FetchedWheel], python: str, scheme: Mapping[str, str], *, workers: int = 8
) -> None:
    """Install every (already verified) wheel into the environment of `python`; each is
    checked first, so a broken archive stops the sync before anything is installed."""
    for wheel in wheels:
        _checked(wheel)
    destination = _SharedFolders(
        {k: v for k, v in scheme.items() if k != "python"},
        interpreter=python,
        script_kind="posix" if os.name != "nt" else "win-amd64",
        bytecode_optimization_levels=(),
    )

    installed = _installed(scheme)
    prefix = Path(scheme["data"]).resolve()

    def one(wheel: FetchedWheel) -> None:
        _remove(installed.get(wheel.planned.package.name, ()), prefix)
        with _opened(wheel) as source:
            install(source, destination, {"INSTALLER": b"fitwheel\n"})

    # Distinct projects write distinct files, and writing files is mostly waiting on the
    # file system: threads overlap that waiting.
    with ThreadPoolExecutor(max(1, min(workers, len(wheels)))) as pool:
        for done in [pool.submit(one, wheel) for wheel in wheels]:
            done.result()
