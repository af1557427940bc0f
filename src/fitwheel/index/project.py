"""One project of `index build`: read its new or changed files, then publish its folder.

The order of the writes is what keeps a served index consistent if the build is killed at any
moment: every file is in place before a page names it, pages are replaced in one step, and a
file that must get other bytes under the same name (a rebuilt wheel, a variants.json that
gained a label) is first dropped from the page, then replaced, then listed again. A page read
at any moment only names files whose bytes match its sizes and hashes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote

from packaging.version import Version

from fitwheel.errors import FitwheelError, UnreadableArchive, VariantMetadataConflict
from fitwheel.index import Documents
from fitwheel.index.filenames import SDIST_SUFFIXES, FileKind, classify
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.index.output import Change, CopyOf, OutputFolder
from fitwheel.index.pages import html_project_page, json_project_page
from fitwheel.index.scan import ScannedFile, Skipped, WheelRead, read_file
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import (
    VariantsDocument,
    dumps_variants_document,
    loads_variants_document,
)
from fitwheel.wheel.archive import open_wheel
from fitwheel.wheel.generate import read_variants_json, release_documents, release_of
from fitwheel.wheel.variant import WheelVariant, read_wheel_variant, wheel_variant

Resolve = Callable[[ProjectPage, Documents], ProjectPage]
"""A resolved index's page transformation: (full page, release version -> its variants
document) -> the page to publish, whose files keep the URLs (file names) of the page given
(e.g. `fitwheel.select.resolve_page` bound to a target)."""

PAGES = ("index.html", "index.json")


class DuplicateDistribution(FitwheelError):
    """Two files of the source folder are one distribution (names equal once normalized)."""


@dataclass(frozen=True)
class ProjectTask:
    """One project's files: those the state file still vouches for, and those to read."""

    source: Path
    output: Path
    project: str
    known: tuple[ScannedFile, ...]
    todo: tuple[str, ...]
    previous: tuple[str, ...]
    """The file names the last build wrote in the project's folder."""
    base_url: str | None
    resolve: Resolve | None
    skip_unreadable: bool = False
    """Leave out a wheel whose zip structure cannot be read (with its reason in `skipped`)."""


@dataclass(frozen=True)
class ProjectResult:
    project: str
    files: tuple[ScannedFile, ...]
    read: int
    written: int
    outputs: tuple[str, ...]
    """File names this build wrote in the project's folder (empty: nothing to publish)."""
    skipped: tuple[Skipped, ...]


def _identity(file: ScannedFile) -> tuple[object, ...]:
    """What makes two files one distribution to an installer, whatever the spelling."""
    name = classify(file.filename, file.project)
    if name is None:  # read_file classified it: it cannot change
        raise AssertionError(file.path)
    if name.wheel is not None:
        wheel = name.wheel
        return ("wheel", name.version, wheel.build, wheel.tags, wheel.label)
    if name.kind is FileKind.SDIST:
        suffix = next(s for s in SDIST_SUFFIXES if file.filename.endswith(s))
        return ("sdist", name.version, suffix)
    return ("variants", name.version)


def unique_files(source: Path, files: Sequence[ScannedFile]) -> tuple[ScannedFile, ...]:
    """One file per distribution, sorted by name: identical copies in two subfolders are one
    file; two different files under one name, or two names of one distribution (`pkg-1.0`
    and `PKG-1.0`, `1.0` and `1.0.0`), are an error naming both."""
    by_name: dict[str, ScannedFile] = {}
    by_identity: dict[tuple[object, ...], ScannedFile] = {}
    for file in sorted(files, key=lambda f: f.path):
        first = by_name.setdefault(file.filename, file)
        if first is not file:
            if first.sha256 != file.sha256:
                raise DuplicateDistribution(
                    f"{source / first.path} and {source / file.path} are different files with "
                    "the same name; an index lists each file name once: remove or rename one"
                )
            continue
        other = by_identity.setdefault(_identity(file), file)
        if other is not file:
            raise DuplicateDistribution(
                f"{source / other.path} and {source / file.path} are the same distribution "
                "under two spellings (names and versions compare normalized): remove one"
            )
    return tuple(by_name[name] for name in sorted(by_name))


def _previous_bytes(path: str) -> bytes | None:
    """The last build's output at `path` (never through a link), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    with open(fd, "rb") as handle:
        return handle.read()


def _release_documents(
    task: ProjectTask, files: Sequence[ScannedFile], wheels_read: Mapping[str, WheelRead]
) -> dict[str, tuple[str, bytes]]:
    """Version -> (variants.json filename, bytes): generated from the variant wheels (their
    `variant.json` as read this run where it was, else from the archive), merged with any
    variants.json in the source folder; unchanged releases reuse the last output."""

    def read(path: Path) -> WheelVariant:
        known = wheels_read.get(path.name)
        if known is None:
            return read_wheel_variant(path)
        return wheel_variant(path, known.variant_json, known.dist_info)

    releases: dict[str, list[ScannedFile]] = {}
    for file in files:
        if file.file_kind in (FileKind.VARIANT_WHEEL, FileKind.VARIANTS_JSON):
            releases.setdefault(file.version, []).append(file)
    changed = set(task.todo)
    out: dict[str, tuple[str, bytes]] = {}
    for version, members in releases.items():
        wheels = [task.source / f.path for f in members if f.file_kind is FileKind.VARIANT_WHEEL]
        given = [task.source / f.path for f in members if f.file_kind is FileKind.VARIANTS_JSON]
        name = given[0].name if given else release_of(wheels[0].name).variants_json_name
        if name in task.previous and not any(f.path in changed for f in members):
            previous = _previous_bytes(f"{task.output}/{task.project}/{name}")
            if previous is not None:
                out[version] = (name, previous)
                continue
        documents: list[tuple[Path, VariantsDocument]] = [(p, read_variants_json(p)) for p in given]
        for document in release_documents(wheels, read=read).values():
            documents.append((wheels[0], document))
        merged = documents[0][1]
        for path, document in documents[1:]:
            try:
                merged = merge_documents(merged, document)
            except VariantMetadataConflict as exc:
                raise VariantMetadataConflict(f"{path}: {exc}") from None
        out[version] = (name, dumps_variants_document(merged).encode())
    return out


def build_project(task: ProjectTask) -> ProjectResult:
    """Read a project's new or changed files, then publish its folder (in a worker process
    for large folders: projects' output folders are disjoint)."""
    files = list(task.known)
    wheels: dict[str, WheelRead] = {}
    skipped = []
    source = str(task.source)
    for relative in task.todo:
        try:
            result = read_file(source, relative, task.project)
        except UnreadableArchive as exc:
            if not task.skip_unreadable:
                raise
            skipped.append(Skipped(relative, str(exc).removeprefix(f"{source}/{relative}: ")))
            continue
        if result is None:
            skipped.append(Skipped(relative, f"not a distribution of {task.project!r}"))
            continue
        files.append(result.file)
        if result.wheel is not None:
            wheels[result.file.filename] = result.wheel
    unique = unique_files(task.source, files)
    output = OutputFolder(str(task.output))
    outputs: tuple[str, ...] = ()
    if unique:
        documents = _release_documents(task, unique, wheels)
        metadata = {filename: wheel.metadata for filename, wheel in wheels.items()}
        outputs = _publish(output, task, unique, metadata, documents)
    return ProjectResult(
        task.project, unique, len(task.todo), output.written, outputs, tuple(skipped)
    )


def _link(base_url: str | None, project: str, filename: str) -> str:
    if base_url is None:
        return quote(filename)
    return f"{base_url.rstrip('/')}/{quote(project)}/{quote(filename)}"


def _page(
    task: ProjectTask, files: Sequence[ScannedFile], documents: Mapping[str, tuple[str, bytes]]
) -> ProjectPage:
    """The project's page, its file URLs still the file names (then transformed)."""
    entries: list[IndexFile] = []
    for file in files:
        if file.file_kind is FileKind.VARIANTS_JSON:
            continue
        core: bool | Mapping[str, str] = False
        if file.metadata_sha256 is not None:
            core = MappingProxyType({"sha256": file.metadata_sha256})
        entries.append(
            IndexFile(
                filename=file.filename,
                url=file.filename,
                hashes=MappingProxyType({"sha256": file.sha256}),
                requires_python=file.requires_python,
                core_metadata=core,
                size=file.size,
            )
        )
    for filename, data in documents.values():
        entries.append(
            IndexFile(
                filename=filename,
                url=filename,
                hashes=MappingProxyType({"sha256": hashlib.sha256(data).hexdigest()}),
                size=len(data),
            )
        )
    unique = {Version(v) for v in dict.fromkeys(f.version for f in files)}  # first spelling wins
    versions = tuple(str(v) for v in sorted(unique))
    page = ProjectPage(name=task.project, url="", files=tuple(entries), versions=versions)
    if task.resolve is None:
        return page
    parsed: dict[str, VariantsDocument | str] = {
        version: loads_variants_document(data, where=f"{task.output}/{task.project}/{filename}")
        for version, (filename, data) in documents.items()
    }
    return task.resolve(page, parsed)


def _publish(
    output: OutputFolder,
    task: ProjectTask,
    files: Sequence[ScannedFile],
    metadata: Mapping[str, bytes],
    documents: Mapping[str, tuple[str, bytes]],
) -> tuple[str, ...]:
    """Write a project's distributions, sidecars, variants.json and pages, in an order that
    keeps every page true to the files (see the module docstring); return the names written."""
    name = task.project
    page = _page(task, files, documents)
    by_url = {f.filename: f for f in files}
    data = {filename: content for filename, content in documents.values()}
    wanted: dict[str, bytes | CopyOf] = {}
    needs: dict[str, tuple[str, ...]] = {}
    """Entry file name -> the output names it needs in place."""
    for entry in page.files:
        if entry.url in data:
            wanted[entry.filename] = data[entry.url]
            needs[entry.filename] = (entry.filename,)
            continue
        file = by_url[entry.url]
        renamed = entry.filename != entry.url
        wanted[entry.filename] = CopyOf(
            f"{task.source}/{file.path}",
            file.sha256,
            file.size,
            trusted=not renamed and file.path not in task.todo,
        )
        needs[entry.filename] = (entry.filename,)
        if entry.core_metadata is not False:
            sidecar = f"{entry.filename}.metadata"
            sidecar_data = metadata.get(entry.url)
            kept = sidecar in task.previous and os.path.isfile(f"{task.output}/{name}/{sidecar}")
            if sidecar_data is None and (renamed or not kept):
                wheel = open_wheel(f"{task.source}/{file.path}")
                sidecar_data = wheel.read_dist_info("METADATA") or b""
            if sidecar_data is not None:
                wanted[sidecar] = sidecar_data
            needs[entry.filename] += (sidecar,)

    output.folder(name)
    changes = {out: output.change(f"{name}/{out}", content) for out, content in wanted.items()}
    for out, content in wanted.items():
        if changes[out] is Change.NEW:
            output.put(f"{name}/{out}", content)
    changed = {out for out, change in changes.items() if change is Change.CHANGED}
    if changed:
        interim = tuple(
            e for e in page.files if not any(out in changed for out in needs[e.filename])
        )
        _write_pages(output, task, replace(page, files=interim))
        for out in sorted(changed):
            output.put(f"{name}/{out}", wanted[out])
    _write_pages(output, task, page)
    outputs = {*wanted, *(out for names in needs.values() for out in names), *PAGES}
    for stale in task.previous:
        if stale not in outputs:
            output.remove(name, stale)
    return tuple(sorted(outputs))


def _write_pages(output: OutputFolder, task: ProjectTask, page: ProjectPage) -> None:
    listed = tuple(
        replace(entry, url=_link(task.base_url, task.project, entry.filename))
        for entry in page.files
    )
    page = replace(page, files=listed)
    output.put(f"{task.project}/index.html", html_project_page(page))
    output.put(f"{task.project}/index.json", json_project_page(page))
