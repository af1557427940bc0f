"""What a target installs from a lock, chosen offline (pure).

`packaging.pylock` selects the packages (environments, `requires-python`, markers, one
release per project); among each package's locked wheels, the build is the one PEP 825 ranks
first for the target, using the lock's inline variants metadata (`fitwheel.select.choose`).
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker
from packaging.pylock import PylockSelectError
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from fitwheel.errors import InvalidLock, LockNotForTarget, NoBuildForTarget
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.lock.document import lock_to_document, validated
from fitwheel.lock.model import Lock, LockedFile, LockedPackage
from fitwheel.select import Target, choose


@dataclass(frozen=True)
class PlannedInstall:
    """One package to install: the locked wheel chosen for the target, and why."""

    package: LockedPackage
    wheel: LockedFile
    label: str | None
    reason: str


def _describe(target: Target) -> str:
    env = target.environment
    return (
        f"Python {target.python_version} ({env.get('implementation_name', '?')}) on "
        f"{env.get('sys_platform', '?')}/{env.get('platform_machine', '?')}"
    )


def _check_target(lock: Lock, target: Target, where: str) -> None:
    environment = dict(target.environment)
    if lock.requires_python:
        try:
            wanted = SpecifierSet(lock.requires_python)
        except InvalidSpecifier:
            raise InvalidLock(
                f"{where}: invalid requires-python {lock.requires_python!r}"
            ) from None
        if not wanted.contains(target.python_version, prereleases=True):
            raise LockNotForTarget(
                f"{where}: the lock requires Python {lock.requires_python}; the target is "
                f"{_describe(target)}: make the lock for it (`fitwheel lock --profile ...`)"
            )
    if lock.environments:
        try:
            fits = any(Marker(m).evaluate(environment) for m in lock.environments)
        except InvalidMarker as exc:
            raise InvalidLock(f"{where}: invalid environments marker: {exc}") from None
        if not fits:
            raise LockNotForTarget(
                f"{where}: the lock was made for {' | '.join(lock.environments)}; the target is "
                f"{_describe(target)}: make the lock for it (`fitwheel lock --profile ...`)"
            )


def plan_install(lock: Lock, target: Target, *, where: str) -> tuple[PlannedInstall, ...]:
    """Every package the target installs from `lock`, with its chosen wheel; in lock order."""
    _check_target(lock, target, where)
    pylock = validated(lock_to_document(lock), where=where)
    # packaging's packages are in the written order; map them back by identity.
    ordered = sorted(lock.packages, key=lambda p: (p.name, p.version))
    position = {id(package): i for i, package in enumerate(pylock.packages)}
    try:
        selected = [
            ordered[position[id(package)]]
            for package, _ in pylock.select(
                environment=dict(target.environment),  # type: ignore[arg-type]
                tags=target.tags,
            )
        ]
    except PylockSelectError as exc:
        raise NoBuildForTarget(f"{where}: {exc} (the target is {_describe(target)})") from None
    return tuple(_choose(package, target, where) for package in selected)


def _choose(package: LockedPackage, target: Target, where: str) -> PlannedInstall:
    page = ProjectPage(
        name=package.name,
        url=where,
        files=tuple(
            IndexFile(
                filename=w.filename,
                url=w.url or w.path or w.filename,
                hashes=w.hashes,
                requires_python=package.requires_python,
            )
            for w in package.wheels
        ),
    )
    documents = {package.version: package.variants} if package.variants is not None else {}
    (choice,) = choose(page, target, documents)
    if choice.chosen is None:
        reasons = "; ".join(f"{r.file.filename}: {r.reason}" for r in choice.rejected)
        raise NoBuildForTarget(
            f"{where}: no locked wheel of {package.name} {package.version} fits the target "
            f"({_describe(target)}): {reasons}"
        )
    wheel = next(w for w in package.wheels if w.filename == choice.chosen.filename)
    return PlannedInstall(package, wheel, choice.label, choice.reason)
