"""Merging per-target resolutions into one lock (pure).

Each target's resolution lists the upstream files it chose. A release that every target
needs is locked without a marker; one that only some targets need gets a marker that selects
exactly their environments. Targets whose environments are equal (the same interpreter on a
CPU-only and a GPU machine) cannot be told apart by a marker: a release only some of them
need is then locked for every target with their environments, and two releases of one project that they need
differently are a `LockConflict`. Variant releases keep every build any target chose, and the
release's variants metadata pruned to those labels (each listed label stays complete).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from fitwheel.errors import LockConflict, ResolutionFailed
from fitwheel.index.model import IndexFile
from fitwheel.lock.model import Lock, LockedFile, LockedPackage
from fitwheel.variants.filename import split_label
from fitwheel.variants.metadata import VariantsDocument

MARKER_KEYS = ("python_version", "implementation_name", "sys_platform", "platform_machine")
"""The environment markers that tell the lock's targets apart, in the order written."""


@dataclass(frozen=True)
class ResolvedFile:
    """One file a target's resolution chose: the upstream file under its real name."""

    project: str
    version: str
    file: IndexFile
    index: str | None = None
    variants: VariantsDocument | None = None


@dataclass(frozen=True)
class TargetResolution:
    """What the resolver chose for one target, and the target's marker environment."""

    name: str
    environment: Mapping[str, str]
    files: tuple[ResolvedFile, ...]


EnvironmentKey = tuple[str, ...]


def _key(environment: Mapping[str, str]) -> EnvironmentKey:
    return tuple(environment.get(k, "") for k in MARKER_KEYS)


def _marker(keys: set[EnvironmentKey], differing: Sequence[int]) -> str | None:
    """A marker true in exactly these environments; a value a profile leaves unknown (`""`)
    constrains nothing, and None means "everywhere"."""
    clauses = sorted(
        {
            " and ".join(f'{MARKER_KEYS[i]} == "{key[i]}"' for i in differing if key[i])
            for key in keys
        }
    )
    if not clauses or "" in clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return " or ".join(f"({c})" for c in clauses)


@dataclass
class _Release:
    project: str
    version: str
    targets: set[int]
    """Positions of the targets that need it."""
    files: dict[str, ResolvedFile]
    """url -> file."""


def merge(resolutions: Sequence[TargetResolution]) -> Lock:
    """One lock for every target in `resolutions` (names are only shown, never compared)."""
    keys = [_key(r.environment) for r in resolutions]
    all_keys = set(keys)
    differing = [i for i in range(len(MARKER_KEYS)) if len({k[i] for k in all_keys}) > 1]
    releases: dict[tuple[str, str], _Release] = {}
    for position, resolution in enumerate(resolutions):
        for resolved in resolution.files:
            release = releases.setdefault(
                (resolved.project, resolved.version),
                _Release(resolved.project, resolved.version, set(), {}),
            )
            release.targets.add(position)
            release.files[resolved.file.url] = resolved
    packages: list[LockedPackage] = []
    selected: dict[tuple[str, int], list[str]] = {}
    for release in releases.values():
        inside = {keys[t] for t in release.targets}
        outside = {k for t, k in enumerate(keys) if t not in release.targets}
        # Environments only other targets have are left out; one shared with a target that
        # does not need the release cannot be, so that target gets it too.
        marker = _marker(inside, differing) if outside - inside else None
        for position, key in enumerate(keys):
            if marker is None or key in inside:
                selected.setdefault((release.project, position), []).append(release.version)
        packages.append(_package(release, marker))
    for (project, position), versions in sorted(selected.items()):
        if len(versions) > 1:
            raise LockConflict(
                f"target {resolutions[position].name!r} would install {project} "
                f"{' and '.join(sorted(versions))}: the targets need different releases of "
                f"{project} but their environments ({', '.join(MARKER_KEYS)}) are equal, so "
                "no marker can tell them apart; lock them separately"
            )
    every_key = range(len(MARKER_KEYS))
    environments = tuple(
        sorted({m for k in all_keys if (m := _marker({k}, every_key)) is not None})
    )
    pythons = sorted(
        {k[0] for k in all_keys if k[0]}, key=lambda v: tuple(int(p) for p in v.split("."))
    )
    return Lock(
        packages=tuple(packages),
        environments=environments,
        requires_python=f">={pythons[0]}" if pythons else None,
    )


def _package(release: _Release, marker: str | None) -> LockedPackage:
    wheels = []
    document: VariantsDocument | None = None
    labels: set[str] = set()
    indexes = sorted({f.index for f in release.files.values() if f.index})
    for resolved in sorted(release.files.values(), key=lambda f: f.file.filename):
        wheels.append(_locked(resolved))
        label = split_label(resolved.file.filename)[1]
        if label is not None:
            labels.add(label)
            document = document or resolved.variants
    if labels and document is None:
        raise ResolutionFailed(
            f"{release.project} {release.version}: variant wheels were chosen but the release "
            "has no variants.json"
        )
    if document is not None:
        document = document.with_variants({k: document.variants[k] for k in sorted(labels)})
    # The index's requires-python, when every locked file of the release agrees on one.
    requires = {f.file.requires_python for f in release.files.values()}
    return LockedPackage(
        name=release.project,
        version=release.version,
        wheels=tuple(wheels),
        marker=marker,
        requires_python=requires.pop() if len(requires) == 1 else None,
        index=indexes[0] if len(indexes) == 1 else None,
        variants=document,
    )


def _locked(resolved: ResolvedFile) -> LockedFile:
    file = resolved.file
    if not file.hashes:
        raise ResolutionFailed(
            f"{file.filename}: neither the index nor the resolver gave a hash for it"
        )
    upload_time = None
    if file.upload_time:
        try:
            upload_time = datetime.fromisoformat(file.upload_time)
        except ValueError:
            upload_time = None  # an index's odd timestamp is not worth failing a lock over
    return LockedFile(
        filename=file.filename,
        hashes=dict(file.hashes),
        url=file.url.split("#", 1)[0],
        size=file.size,
        upload_time=upload_time,
    )
