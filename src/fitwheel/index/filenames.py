"""Which release a file on a project page belongs to, and what kind of file it is."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import Version

from fitwheel.errors import InvalidVariantWheelFilename
from fitwheel.variants.filename import VariantWheelFilename, parse_variant_wheel_filename

SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
VARIANTS_SUFFIX = "-variants.json"


class FileKind(enum.Enum):
    WHEEL = "wheel"
    VARIANT_WHEEL = "variant wheel"
    SDIST = "sdist"
    VARIANTS_JSON = "variants.json"


@dataclass(frozen=True)
class DistributionName:
    """A file's kind and release; `wheel` is set for wheels and variant wheels."""

    kind: FileKind
    version: Version
    wheel: VariantWheelFilename | None = None

    @property
    def label(self) -> str | None:
        return self.wheel.label if self.wheel is not None else None


def _split_name_version(stem: str, project: str) -> Version | None:
    """The version in `{name}-{version}`, where `name` normalizes to `project`."""
    for index, char in enumerate(stem):
        if char == "-" and canonicalize_name(stem[:index]) == project:
            try:
                return Version(stem[index + 1 :])
            except ValueError:  # InvalidVersion, or a number past Python's 4,300 digits
                return None
    return None


def classify(filename: str, project: str) -> DistributionName | None:
    """What `filename` is for `project` (normalized), or None if it is not one of its files."""
    if filename.endswith(".whl"):
        try:
            wheel = parse_variant_wheel_filename(filename)
        except InvalidVariantWheelFilename:
            return None
        if wheel.name != project:
            return None
        kind = FileKind.WHEEL if wheel.label is None else FileKind.VARIANT_WHEEL
        return DistributionName(kind, wheel.version, wheel)
    if filename.endswith(VARIANTS_SUFFIX):
        version = _split_name_version(filename[: -len(VARIANTS_SUFFIX)], project)
        return DistributionName(FileKind.VARIANTS_JSON, version) if version is not None else None
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            version = _split_name_version(filename[: -len(suffix)], project)
            return DistributionName(FileKind.SDIST, version) if version is not None else None
    return None


_NORMALIZED_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def is_normalized_name(name: str) -> bool:
    """Whether `name` is a valid project name in its PEP 503 normalized form (which starts and
    ends with a letter or digit, so it is also a safe folder and URL path segment)."""
    return _NORMALIZED_NAME.fullmatch(name) is not None


def project_of(filename: str) -> str | None:
    """The normalized project name a distribution file belongs to (for flat folders)."""
    if filename.endswith(".whl"):
        return canonicalize_name(filename.split("-", 1)[0])
    for suffix in (*SDIST_SUFFIXES, VARIANTS_SUFFIX):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            name, sep, _ = stem.rpartition("-")
            return canonicalize_name(name) if sep else None
    return None


def variants_json_filename(project: str, version: Version | str) -> str:
    """`{name}-{version}-variants.json`, with the name as wheel filenames spell it."""
    return f"{project.replace('-', '_')}-{version}{VARIANTS_SUFFIX}"
