"""`pylock.toml` as text: written byte-stable, read and validated through `packaging.pylock`.

`packaging.pylock` knows neither variant wheel filenames (its filename parser rejects the
label) nor `[packages.variants-json]`, so it validates the *stock view* of a lock: the same
document with each variant wheel's `name` set to its label-less filename and the table left
out. fitwheel checks the rest: every labelled wheel's label is in its package's variants-json,
whose `$schema` it must understand.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w
from packaging.pylock import Pylock, PylockValidationError

from fitwheel.errors import InvalidLock, InvalidVariantWheelFilename
from fitwheel.lock.model import LOCK_VERSION, Lock, LockedFile, LockedPackage
from fitwheel.variants.filename import split_label
from fitwheel.variants.metadata import document_to_json, parse_variants_document

VARIANTS_KEY = "variants-json"


def lock_to_document(lock: Lock) -> dict[str, Any]:
    """The lock as a TOML-ready mapping, in a fixed order (so the same lock gives the same bytes)."""
    document: dict[str, Any] = {"lock-version": LOCK_VERSION}
    if lock.environments:
        document["environments"] = list(lock.environments)
    if lock.requires_python:
        document["requires-python"] = lock.requires_python
    document["created-by"] = lock.created_by
    document["packages"] = [
        _package(p) for p in sorted(lock.packages, key=lambda p: (p.name, p.version))
    ]
    if lock.tool:
        document["tool"] = dict(lock.tool)
    return document


def _package(package: LockedPackage) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": package.name, "version": package.version}
    if package.marker:
        entry["marker"] = package.marker
    if package.requires_python:
        entry["requires-python"] = package.requires_python
    if package.index:
        entry["index"] = package.index
    entry["wheels"] = [_wheel(w) for w in sorted(package.wheels, key=lambda w: w.filename)]
    if package.variants is not None:
        entry[VARIANTS_KEY] = document_to_json(package.variants)
    return entry


def _wheel(wheel: LockedFile) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if wheel.url is not None:
        entry["url"] = wheel.url
        if Path(wheel.url.split("#", 1)[0].split("?", 1)[0]).name != wheel.filename:
            entry["name"] = wheel.filename
    if wheel.path is not None:
        entry["path"] = wheel.path
    if wheel.upload_time is not None:
        entry["upload-time"] = wheel.upload_time
    if wheel.size is not None:
        entry["size"] = wheel.size
    entry["hashes"] = dict(sorted(wheel.hashes.items()))
    return entry


def dumps_lock(lock: Lock) -> str:
    return tomli_w.dumps(lock_to_document(lock))


def stock_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """What a tool without variant support should read: labels out of the wheel names and no
    variants-json (which such a tool keeps but does not use)."""
    view = copy.deepcopy(dict(document))
    for package in view.get("packages") or ():
        if not isinstance(package, dict):
            continue
        package.pop(VARIANTS_KEY, None)
        for wheel in package.get("wheels") or ():
            if not isinstance(wheel, dict):
                continue
            name = wheel.get("name") or _last_part(wheel.get("url") or wheel.get("path"))
            if isinstance(name, str) and name.endswith(".whl"):
                try:
                    base, label = split_label(name)
                except InvalidVariantWheelFilename:
                    continue  # packaging names the bad filename
                if label is not None:
                    wheel["name"] = base
    return view


def _last_part(location: Any) -> str | None:
    if not isinstance(location, str):
        return None
    return location.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def loads_lock(text: str, *, where: str) -> Lock:
    """Read and validate a `pylock.toml`; `where` names it in errors."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidLock(f"{where}: not valid TOML: {exc}") from None
    return lock_from_document(document, where=where)


def read_lock(path: str | Path) -> Lock:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidLock(f"{path}: cannot read the lock: {exc}") from None
    return loads_lock(text, where=str(path))


def validated(document: Mapping[str, Any], *, where: str) -> Pylock:
    """The lock's stock view as `packaging.pylock` reads it (PEP 751 validation)."""
    try:
        return Pylock.from_dict(stock_view(document))
    except PylockValidationError as exc:
        raise InvalidLock(f"{where}: not a valid PEP 751 lock: {exc}") from None


def lock_from_document(document: Mapping[str, Any], *, where: str) -> Lock:
    pylock = validated(document, where=where)
    packages = []
    for index, (raw, checked) in enumerate(zip(document["packages"], pylock.packages, strict=True)):
        at = f"{where}: packages[{index}] ({checked.name})"
        if checked.version is None or not checked.wheels:
            raise InvalidLock(f"{at}: fitwheel locks list a version and wheels for every package")
        wheels = tuple(
            LockedFile(
                filename=_last_part(w.get("name") or w.get("url") or w.get("path")) or "",
                hashes=dict(c.hashes),
                url=c.url,
                path=c.path,
                size=c.size,
                upload_time=c.upload_time if isinstance(c.upload_time, datetime) else None,
            )
            for w, c in zip(raw["wheels"], checked.wheels, strict=True)
        )
        variants = None
        if VARIANTS_KEY in raw:
            variants = parse_variants_document(raw[VARIANTS_KEY], where=f"{at} [variants-json]")
        for wheel in wheels:
            label = wheel.label
            if label is not None and (variants is None or label not in variants.variants):
                known = ", ".join(sorted(variants.variants)) if variants else "no variants-json"
                raise InvalidLock(
                    f"{at}: wheel {wheel.filename} has variant label {label!r}, which its "
                    f"[packages.variants-json] does not list ({known})"
                )
        packages.append(
            LockedPackage(
                name=checked.name,
                version=str(checked.version),
                wheels=wheels,
                marker=None if checked.marker is None else str(checked.marker),
                requires_python=(
                    None if checked.requires_python is None else str(checked.requires_python)
                ),
                index=checked.index,
                variants=variants,
            )
        )
    return Lock(
        packages=tuple(packages),
        environments=tuple(str(m) for m in pylock.environments or ()),
        requires_python=None if pylock.requires_python is None else str(pylock.requires_python),
        created_by=pylock.created_by,
        tool=dict(pylock.tool or {}),
    )
