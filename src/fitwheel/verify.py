"""Whether the builds installed in an environment still fit the machine (`fitwheel verify`).

A distribution installed from a variant wheel keeps the wheel's `variant.json` in its
`.dist-info`: the label and properties of the build that was chosen. Verification re-ranks each
against a target, offline: the build *fits* (its properties are supported) or *does not fit* (a
container image built for another GPU, a driver downgrade). With the releases' variants
documents (from an index, when the caller fetched them) it can also say that a *better build* is
available. A fat wheel (one that vendors `fitwheel.runtime`) chooses at import time; its choice is
reported by importing it in the environment's own interpreter.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from fitwheel.errors import FitwheelError, InvalidVariantMetadata
from fitwheel.variants.metadata import VariantsDocument, loads_variants_document

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fitwheel.index import Documents
    from fitwheel.index.model import ProjectPage
    from fitwheel.index.network import NetworkOptions
    from fitwheel.select import Target

VARIANT_JSON = "variant.json"
_DIST_INFO = ".dist-info"
# A vendored copy of the runtime: `mypkg/_fitwheel_runtime/__init__.py` (docs/runtime.md).
_RUNTIME_FOLDER_SUFFIX = "fitwheel_runtime"
# The most a dist-info file read here may hold: a variant.json is a few KiB.
_MAX_FILE = 4 * 1024 * 1024
_IMPORT_TIMEOUT = 60.0


class Status(enum.Enum):
    FITS = "fits"
    BETTER = "better build available"
    MISFIT = "does not fit"
    UNREADABLE = "cannot be verified"


@dataclass(frozen=True)
class Installed:
    """One installed distribution with variant data: its `.dist-info` folder and what it holds."""

    name: str
    version: str
    dist_info: Path
    document: VariantsDocument | None
    problem: str | None = None

    @property
    def label(self) -> str | None:
        if self.document is None or len(self.document.variants) != 1:
            return None
        return next(iter(self.document.variants))


@dataclass(frozen=True)
class Verdict:
    name: str
    version: str
    label: str | None
    status: Status
    reason: str
    fix: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "label": self.label,
            "status": self.status.value,
            "reason": self.reason,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Report:
    verdicts: tuple[Verdict, ...]
    checked: int
    """Distributions looked at (with or without variant data)."""

    @property
    def failed(self) -> bool:
        return any(v.status in (Status.MISFIT, Status.UNREADABLE) for v in self.verdicts)


def environment_paths(python: str) -> list[Path]:
    """The import path of the environment of interpreter `python` (its site-packages folders)."""
    code = "import json, sys; print(json.dumps(sys.path))"
    try:
        completed = subprocess.run(
            [python, "-I", "-c", code], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FitwheelError(f"--python {python}: cannot run it: {exc}") from None
    if completed.returncode != 0:
        raise FitwheelError(f"--python {python}: not a working Python interpreter")
    return [Path(p) for p in json.loads(completed.stdout) if p and os.path.isdir(p)]


def _dist_infos(paths: Iterable[Path]) -> Iterable[Path]:
    seen = set()
    for path in paths:
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(_DIST_INFO) and entry.name not in seen and entry.is_dir():
                seen.add(entry.name)
                yield Path(entry.path)


def _name_version(dist_info: Path) -> tuple[str, str]:
    name, _, version = dist_info.name[: -len(_DIST_INFO)].rpartition("-")
    return name, version


def _read(path: Path) -> bytes:
    with open(path, "rb") as stream:
        data = stream.read(_MAX_FILE + 1)
    if len(data) > _MAX_FILE:
        raise InvalidVariantMetadata(f"{path}: larger than {_MAX_FILE} bytes")
    return data


def installed_variants(paths: Iterable[Path]) -> tuple[list[Installed], list[Installed], int]:
    """(distributions with a `variant.json`, fat wheels, how many distributions were seen)."""
    variants: list[Installed] = []
    fat: list[Installed] = []
    seen = 0
    for dist_info in _dist_infos(paths):
        seen += 1
        name, version = _name_version(dist_info)
        variant = dist_info / VARIANT_JSON
        if variant.is_file():
            try:
                document = loads_variants_document(_read(variant), where=str(variant))
            except (InvalidVariantMetadata, OSError) as exc:
                variants.append(Installed(name, version, dist_info, None, str(exc)))
                continue
            problem = None
            if len(document.variants) != 1:
                problem = f"{variant}: holds {len(document.variants)} labels, a wheel has one"
            variants.append(Installed(name, version, dist_info, document, problem))
        elif _vendors_runtime(dist_info):
            fat.append(Installed(name, version, dist_info, None))
    return variants, fat, seen


def _vendors_runtime(dist_info: Path) -> bool:
    try:
        record = _read(dist_info / "RECORD").decode("utf-8", "replace")
    except (OSError, InvalidVariantMetadata):
        return False
    return any(
        folder.endswith(_RUNTIME_FOLDER_SUFFIX) and not folder.startswith("fitwheel/")
        for line in record.splitlines()
        for folder in [line.split(",", 1)[0].rpartition("/__init__.py")[0]]
        if line.split(",", 1)[0].endswith("/__init__.py")
    )


def _top_level(dist_info: Path) -> list[str]:
    """The importable top-level packages of a distribution (from its RECORD)."""
    record = _read(dist_info / "RECORD").decode("utf-8", "replace")
    names = []
    for line in record.splitlines():
        path = line.split(",", 1)[0]
        top, sep, rest = path.partition("/")
        if sep and rest == "__init__.py" and top.isidentifier() and top not in names:
            names.append(top)
    return names


def fix_command(installed: Installed, profile_path: str | None) -> str:
    profile = f" --profile {profile_path}" if profile_path else ""
    return (
        f"fitwheel pip{profile} install --force-reinstall --no-deps "
        f"{installed.name}=={installed.version}"
    )


def verify_variants(
    installed: Sequence[Installed],
    target: Target,
    releases: Mapping[str, tuple[ProjectPage, Documents]] | None = None,
    *,
    profile_path: str | None = None,
) -> list[Verdict]:
    """A verdict per distribution: offline from its own `variant.json`, and against its
    release's other builds where `releases` (normalized name -> page and documents) has them."""
    # Imported here: `fitwheel pip` / `fitwheel uv` read installed builds through this module
    # after every run, and need none of the ranking (about 60 ms of imports).
    from fitwheel.variants.ordering import rank

    verdicts = []
    for dist in installed:
        label = dist.label
        if dist.document is None or dist.problem is not None or label is None:
            verdicts.append(
                Verdict(dist.name, dist.version, label, Status.UNREADABLE, str(dist.problem))
            )
            continue
        ranking = rank(
            dist.document,
            target.profile.variants,
            environment=target.environment,
            provided_namespaces=target.profile.provided_namespaces,
        )
        fits = label in ranking.ranked
        reason = (
            f"{label} ({dist.document.variants[label]}) is supported"
            if fits
            else ranking.excluded.get(label, "not supported")
        )
        best = _best_label(dist, target, releases)
        if fits and (best is None or best == label):
            verdicts.append(Verdict(dist.name, dist.version, label, Status.FITS, reason))
        elif fits:
            verdicts.append(
                Verdict(
                    dist.name,
                    dist.version,
                    label,
                    Status.BETTER,
                    f"{best} ranks first for this machine; {reason}",
                    fix_command(dist, profile_path),
                )
            )
        else:
            better = f"; {best} fits" if best is not None else ""
            verdicts.append(
                Verdict(
                    dist.name,
                    dist.version,
                    label,
                    Status.MISFIT,
                    reason + better,
                    fix_command(dist, profile_path),
                )
            )
    return verdicts


def _best_label(
    dist: Installed,
    target: Target,
    releases: Mapping[str, tuple[ProjectPage, Documents]] | None,
) -> str | None:
    found = None if releases is None else releases.get(canonicalize_name(dist.name))
    if found is None:
        return None
    from fitwheel.select import choose

    page, documents = found
    for choice in choose(page, target, documents):
        if Version(choice.version) == Version(dist.version) and choice.chosen is not None:
            return choice.label
    return None


async def fetch_releases(
    index_url: str, names: Iterable[str], network: NetworkOptions | None = None
) -> dict[str, tuple[ProjectPage, Documents]]:
    """Each project's page and variants documents from `index_url`, fetched concurrently
    (`network`: how to reach it; default: as the environment says)."""
    # Imported here: the offline check (the common one, at container start) needs no HTTP.
    import asyncio

    from fitwheel.index.client import ClientSettings, IndexClient

    settings = ClientSettings() if network is None else ClientSettings(network=network)
    async with IndexClient(settings) as client:

        async def one(name: str) -> tuple[str, tuple[ProjectPage, Documents]]:
            page = await client.project_page(index_url, name)
            return name, (page, await client.variants_documents(page))

        unique = sorted({canonicalize_name(n) for n in names})
        return dict(await asyncio.gather(*(one(name) for name in unique)))


_FAT_REPORT = """
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
        choice = getattr(module, "__fitwheel_choice__", None)
        out[name] = {"chosen": getattr(choice, "chosen", None)} if choice else None
    except Exception as exc:
        out[name] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
print(json.dumps(out))
"""


def verify_fat(fat: Sequence[Installed], python: str) -> list[Verdict]:
    """Import each fat wheel's packages in `python` and report the build its runtime chose."""
    packages = {dist.name: _top_level(dist.dist_info) for dist in fat}
    names = [name for found in packages.values() for name in found]
    if not names:
        return []
    try:
        completed = subprocess.run(
            [python, "-c", _FAT_REPORT, *names],
            capture_output=True,
            text=True,
            timeout=_IMPORT_TIMEOUT,
            check=False,
        )
        results = json.loads(completed.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise FitwheelError(f"cannot import the fat wheels in {python}: {exc}") from None
    verdicts = []
    for dist in fat:
        for package in packages[dist.name]:
            result = results.get(package)
            if result is None:
                continue
            if "error" in result:
                verdicts.append(
                    Verdict(dist.name, dist.version, None, Status.MISFIT, result["error"])
                )
            else:
                verdicts.append(
                    Verdict(
                        dist.name,
                        dist.version,
                        None,
                        Status.FITS,
                        f"fat wheel: {package} imports its build {result['chosen']} on this "
                        "machine (chosen at import time, whatever the profile says)",
                    )
                )
    return verdicts
