"""`index build`: a static simple index (PEP 503 HTML + PEP 691 JSON) from a folder of files.

Layout of the output folder, which any static web server can serve as-is:

    index.html, index.json                  root pages
    {project}/index.html, index.json        project pages
    {project}/{file}                        the distributions (hard links, or copies)
    {project}/{wheel}.metadata              PEP 658/714 sidecars
    {project}/{name}-{version}-variants.json

A state file (`.fitwheel-index.json`) remembers what each source file gave, so a re-run reads
only new or changed files and rewrites only pages whose bytes change. With a profile, the
index is *resolved*: each release lists only the file that target should get, a variant wheel
under its label-less name, so stock installers pick it from a plain static host.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from packaging.version import Version

from fitwheel.errors import FitwheelError, VariantMetadataConflict
from fitwheel.index.filenames import FileKind
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.index.pages import (
    html_project_page,
    html_root_page,
    json_project_page,
    json_root_page,
)
from fitwheel.index.scan import (
    Progress,
    ScannedFile,
    WheelRead,
    from_record,
    list_folder,
    read_file,
    record_of,
    unchanged,
)
from fitwheel.variants.metadata import (
    VariantsDocument,
    dumps_variants_document,
    loads_variants_document,
)

STATE_FILE = ".fitwheel-index.json"

Resolve = Callable[[ProjectPage, Mapping[str, VariantsDocument | str]], ProjectPage]
"""A resolved index's page transformation: (full page, release documents) -> published page."""
_STATE_FORMAT = 2


@dataclass(frozen=True)
class BuildReport:
    projects: int
    files: int
    read: int
    """Source files read this run (the rest came from the state file)."""
    written: int
    """Output files created or changed this run."""
    skipped: tuple[str, ...]
    """Names in the source folder that are not distributions."""


class _Output:
    """Writes into the output folder, counting what changed and remembering what belongs to it."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.paths: set[str] = set()
        self.folders: set[str] = {""}
        self.written = 0
        self.can_link = True

    def _claim(self, relative: str) -> str:
        self.paths.add(relative)
        folder, _, _ = relative.rpartition("/")
        if folder not in self.folders:
            os.makedirs(f"{self.root}/{folder}", exist_ok=True)
            self.folders.add(folder)
        return f"{self.root}/{relative}"

    def data(self, relative: str, data: bytes) -> None:
        path = self._claim(relative)
        try:
            # A new file: nothing links to it until its page is written, after it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            self._replace(path, data)
            return
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        self.written += 1

    def _replace(self, path: str, data: bytes) -> None:
        if os.stat(path).st_size == len(data):
            with open(path, "rb") as handle:
                if handle.read() == data:
                    return
        # An existing file may be served right now: replace it in one step.
        tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        self.written += 1

    def metadata(self, relative: str, wheel: str, data: bytes | None, *, renamed: bool) -> None:
        """The PEP 658 sidecar: `data` when the wheel was just read; else the last run's
        sidecar stays (unless the name may now stand for another wheel), or the wheel's
        METADATA is read again."""
        if data is None:
            if not renamed and os.path.exists(os.path.join(self.root, relative)):
                self._claim(relative)
                return
            from fitwheel.wheel.archive import open_wheel

            data = open_wheel(wheel).read_dist_info("METADATA") or b""
        self.data(relative, data)

    def link(self, relative: str, source: str) -> None:
        """Put `source`'s bytes at `relative`: a hard link where possible, else a copy."""
        path = self._claim(relative)
        try:
            self._link(source, path)
            return
        except FileExistsError:
            pass
        have, want = os.stat(path), os.stat(source)
        if have.st_ino == want.st_ino or (
            have.st_size == want.st_size and have.st_mtime_ns == want.st_mtime_ns
        ):
            return
        os.unlink(path)
        self._link(source, path)

    def _link(self, source: str, path: str) -> None:
        if self.can_link:
            try:
                os.link(source, path)
                self.written += 1
                return
            except FileExistsError:
                raise
            except OSError:
                # Another file system, or one without hard links: copy from now on.
                self.can_link = False
        if os.path.lexists(path):
            raise FileExistsError(path)
        shutil.copy2(source, path)
        self.written += 1


def _load_state(output: Path, source: Path) -> dict[str, Any]:
    try:
        state = json.loads((output / STATE_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
        return {}
    if state.get("source") != str(source) or not isinstance(state.get("files"), dict):
        state["files"] = {}
    return state


def _link(base_url: str | None, project: str, filename: str) -> str:
    if base_url is None:
        return quote(filename)
    return f"{base_url.rstrip('/')}/{quote(project)}/{quote(filename)}"


def _release_documents(
    source: Path,
    files: Sequence[ScannedFile],
    changed: Collection[str],
    output: Path,
    wheels_read: Mapping[str, WheelRead],
) -> dict[str, tuple[str, bytes]]:
    """Version -> (variants.json filename, bytes): generated from the variant wheels (their
    `variant.json` as read this run where it was, else from the archive), merged with any
    variants.json in the source folder; unchanged releases reuse the last output."""
    from fitwheel.variants.merge import merge_documents
    from fitwheel.wheel.generate import read_variants_json, release_documents, release_of
    from fitwheel.wheel.variant import WheelVariant, read_wheel_variant, wheel_variant

    def read(path: Path) -> WheelVariant:
        known = wheels_read.get(path.name)
        if known is None:
            return read_wheel_variant(path)
        return wheel_variant(path, known.variant_json, known.dist_info)

    releases: dict[str, list[ScannedFile]] = {}
    for file in files:
        if file.file_kind in (FileKind.VARIANT_WHEEL, FileKind.VARIANTS_JSON):
            releases.setdefault(file.version, []).append(file)
    out: dict[str, tuple[str, bytes]] = {}
    for version, members in releases.items():
        wheels = [source / f.path for f in members if f.file_kind is FileKind.VARIANT_WHEEL]
        given = [source / f.path for f in members if f.file_kind is FileKind.VARIANTS_JSON]
        name = given[0].name if given else release_of(wheels[0].name).variants_json_name
        previous = output / files[0].project / name
        if previous.exists() and not any(f.path in changed for f in members):
            out[version] = (name, previous.read_bytes())
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


@dataclass(frozen=True)
class _Target:
    """How every project page is written: link form, and for a resolved index, the page
    transformation (e.g. `fitwheel.select.resolve_page` bound to a target)."""

    base_url: str | None
    resolve: Resolve | None


@dataclass(frozen=True)
class _ProjectTask:
    """One project's files: those the state file still vouches for, and those to read."""

    source: Path
    output: Path
    project: str
    known: tuple[ScannedFile, ...]
    todo: tuple[str, ...]
    target: _Target


@dataclass(frozen=True)
class _ProjectResult:
    project: str
    files: tuple[ScannedFile, ...]
    read: int
    written: int
    outputs: tuple[str, ...]
    skipped: tuple[str, ...]


def _unique_names(source: Path, files: Sequence[ScannedFile]) -> tuple[ScannedFile, ...]:
    """One file per name, sorted: a page lists a name once, so two different files cannot
    share one (identical copies in two subfolders are one file)."""
    by_name: dict[str, ScannedFile] = {}
    for file in sorted(files, key=lambda f: f.path):
        first = by_name.setdefault(file.filename, file)
        if first is not file and first.sha256 != file.sha256:
            raise FitwheelError(
                f"{source / first.path} and {source / file.path} are different files with the "
                "same name; an index lists each file name once: remove or rename one"
            )
    return tuple(by_name[name] for name in sorted(by_name))


def _build_project(task: _ProjectTask) -> _ProjectResult:
    """Read a project's new or changed files, then write its outputs (in a worker process
    for large folders: projects' output folders are disjoint)."""
    files = list(task.known)
    wheels: dict[str, WheelRead] = {}
    skipped = []
    source = str(task.source)
    for relative in task.todo:
        result = read_file(source, relative, task.project)
        if result is None:
            skipped.append(relative)
            continue
        files.append(result.file)
        if result.wheel is not None:
            wheels[result.file.filename] = result.wheel
    unique = _unique_names(task.source, files)
    writer = _Output(task.output)
    metadata = {filename: wheel.metadata for filename, wheel in wheels.items()}
    if unique:
        documents = _release_documents(task.source, unique, set(task.todo), task.output, wheels)
        _write_project(writer, task, unique, metadata, documents)
    return _ProjectResult(
        task.project,
        unique,
        len(task.todo),
        writer.written,
        tuple(writer.paths),
        tuple(skipped),
    )


_PARALLEL_FROM = 512
"""Build projects in worker processes from this many files to read on."""


def _build_projects(tasks: Sequence[_ProjectTask]) -> Iterator[_ProjectResult]:
    """`_build_project` of each task, in order: in worker processes for a large plain index
    (reading is CPU-bound: hashing, unzipping); a resolved index's transformation stays here."""
    todo = sum(len(t.todo) for t in tasks)
    workers = min(todo // (_PARALLEL_FROM // 2), os.cpu_count() or 1)
    if workers < 2 or any(t.target.resolve is not None for t in tasks):
        yield from map(_build_project, tasks)
        return
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers)
    try:
        chunks = max(1, len(tasks) // (workers * 8))
        yield from pool.map(_build_project, tasks, chunksize=chunks)
    finally:
        pool.shutdown(cancel_futures=True)


def build_index(
    source: str | Path,
    output: str | Path,
    *,
    base_url: str | None = None,
    resolve: Resolve | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Write (or update) the static index of `source` into `output`; see the module docstring.

    `resolve` makes a resolved index: it receives each project's full page and its releases'
    variants documents, and returns the page to publish (only files it keeps are written).
    """
    source, output = Path(source).resolve(), Path(output).resolve()
    if not source.is_dir():
        raise FitwheelError(f"{source}: not a folder")
    if output == source or source in output.parents:
        raise FitwheelError(f"{output}: the output folder must not be inside the source folder")
    output.mkdir(parents=True, exist_ok=True)
    state = _load_state(output, source)
    records: Mapping[str, Any] = state.get("files", {})
    listing = list_folder(source)
    target = _Target(base_url, resolve)
    tasks = []
    for project, paths in sorted(listing.projects.items()):
        known, todo = [], []
        for relative in paths:
            record = records.get(relative)
            file = from_record(record) if isinstance(record, dict) else None
            if file is not None and unchanged(source, file):
                known.append(file)
            else:
                todo.append(relative)
        tasks.append(_ProjectTask(source, output, project, tuple(known), tuple(todo), target))
    total = sum(len(t.todo) for t in tasks)

    names: list[str] = []
    files: dict[str, dict[str, Any]] = {}
    outputs: set[str] = set()
    skipped, read, written = list(listing.skipped), 0, 0
    for result in _build_projects(tasks):
        read += result.read
        written += result.written
        skipped += result.skipped
        outputs.update(result.outputs)
        if progress is not None and result.read:
            progress(read, total)
        if result.files:
            names.append(result.project)
            files.update((f.path, record_of(f)) for f in result.files)

    writer = _Output(output)
    writer.data("index.html", html_root_page(names))
    writer.data("index.json", json_root_page(names))
    outputs |= writer.paths
    for stale in sorted(set(state.get("outputs", [])) - outputs):
        (output / stale).unlink(missing_ok=True)
    state = {
        "format": _STATE_FORMAT,
        "source": str(source),
        "files": files,
        "outputs": sorted(outputs),
    }
    tmp = output / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, output / STATE_FILE)
    return BuildReport(
        projects=len(names),
        files=len(files),
        read=read,
        written=written + writer.written,
        skipped=tuple(sorted(skipped)),
    )


def _write_project(
    writer: _Output,
    task: _ProjectTask,
    files: Sequence[ScannedFile],
    metadata: Mapping[str, bytes],
    documents: Mapping[str, tuple[str, bytes]],
) -> None:
    """A project's distributions, sidecars, variants.json and pages."""
    name, target = task.project, task.target
    entries: list[IndexFile] = []
    origin: dict[str, str | bytes] = {}
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
        origin[file.filename] = f"{task.source}/{file.path}"
    for filename, data in documents.values():
        entries.append(
            IndexFile(
                filename=filename,
                url=filename,
                hashes=MappingProxyType({"sha256": hashlib.sha256(data).hexdigest()}),
                size=len(data),
            )
        )
        origin[filename] = data
    unique = {Version(v) for v in dict.fromkeys(f.version for f in files)}  # first spelling wins
    versions = tuple(str(v) for v in sorted(unique))
    page = ProjectPage(name=name, url="", files=tuple(entries), versions=versions)
    if target.resolve is not None:
        parsed: dict[str, VariantsDocument | str] = {
            version: loads_variants_document(data, where=os.path.join(writer.root, name, filename))
            for version, (filename, data) in documents.items()
        }
        page = target.resolve(page, parsed)
    listed = []
    for entry in page.files:
        what = origin[entry.url]
        relative = f"{name}/{entry.filename}"
        if isinstance(what, bytes):
            writer.data(relative, what)
        else:
            writer.link(relative, what)
            if entry.core_metadata is not False:
                writer.metadata(
                    f"{relative}.metadata",
                    what,
                    metadata.get(entry.url),
                    renamed=entry.filename != entry.url,
                )
        listed.append(replace(entry, url=_link(target.base_url, name, entry.filename)))
    page = replace(page, files=tuple(listed))
    writer.data(f"{name}/index.html", html_project_page(page))
    writer.data(f"{name}/index.json", json_project_page(page))
