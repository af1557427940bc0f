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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from packaging.tags import Tag
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
from fitwheel.index.scan import Progress, ScannedFile, cache_records, scan_folder
from fitwheel.profile import Profile
from fitwheel.variants.metadata import VariantsDocument, dumps_variants_document

STATE_FILE = ".fitwheel-index.json"
_STATE_FORMAT = 1


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
        self.root = root
        self.paths: set[str] = set()
        self.folders: set[str] = set()
        self.written = 0

    def _claim(self, relative: str) -> str:
        self.paths.add(relative)
        folder, _, _ = relative.rpartition("/")
        if folder not in self.folders:
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
            self.folders.add(folder)
        return os.path.join(self.root, relative)

    def data(self, relative: str, data: bytes) -> None:
        path = self._claim(relative)
        try:
            if os.stat(path).st_size == len(data):
                with open(path, "rb") as handle:
                    if handle.read() == data:
                        return
        except FileNotFoundError:
            # A new file: nothing links to it until its page is written, after it.
            with open(path, "wb") as handle:
                handle.write(data)
            self.written += 1
            return
        # An existing file may be served right now: replace it in one step.
        tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        self.written += 1

    def metadata(self, relative: str, wheel: Path, data: bytes | None, *, renamed: bool) -> None:
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

    def link(self, relative: str, source: Path) -> None:
        """Put `source`'s bytes at `relative`: a hard link where possible, else a copy."""
        path = self._claim(relative)
        try:
            have, want = os.stat(path), source.stat()
            if have.st_ino == want.st_ino or (
                have.st_size == want.st_size and have.st_mtime_ns == want.st_mtime_ns
            ):
                return
            os.unlink(path)
        except FileNotFoundError:
            pass
        try:
            os.link(source, path)
        except OSError:
            shutil.copy2(source, path)
        self.written += 1


def _load_state(output: Path, source: Path) -> dict[str, Any]:
    try:
        state = json.loads((output / STATE_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
        return {}
    if state.get("source") != str(source):
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
) -> dict[str, tuple[str, bytes]]:
    """Version -> (variants.json filename, bytes): generated from the variant wheels, merged
    with any variants.json in the source folder; unchanged releases reuse the last output."""
    from fitwheel.variants.merge import merge_documents
    from fitwheel.wheel.generate import read_variants_json, release_documents, release_of

    releases: dict[str, list[ScannedFile]] = {}
    for file in files:
        if file.file_kind in (FileKind.VARIANT_WHEEL, FileKind.VARIANTS_JSON):
            releases.setdefault(file.version, []).append(file)
    out: dict[str, tuple[str, bytes]] = {}
    for version, members in releases.items():
        wheels = [source / f.filename for f in members if f.file_kind is FileKind.VARIANT_WHEEL]
        given = [source / f.filename for f in members if f.file_kind is FileKind.VARIANTS_JSON]
        name = given[0].name if given else release_of(wheels[0].name).variants_json_name
        previous = output / files[0].project / name
        if previous.exists() and not any(f.filename in changed for f in members):
            out[version] = (name, previous.read_bytes())
            continue
        documents: list[tuple[Path, VariantsDocument]] = [(p, read_variants_json(p)) for p in given]
        for document in release_documents(wheels).values():
            documents.append((wheels[0], document))
        merged = documents[0][1]
        for path, document in documents[1:]:
            try:
                merged = merge_documents(merged, document)
            except VariantMetadataConflict as exc:
                raise VariantMetadataConflict(f"{path}: {exc}") from None
        out[version] = (name, dumps_variants_document(merged).encode())
    return out


def build_index(
    source: str | Path,
    output: str | Path,
    *,
    base_url: str | None = None,
    profile: Profile | None = None,
    tags: Sequence[Tag] | None = None,
    provided_namespaces: Collection[str] | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Write (or update) the static index of `source` into `output`; see the module docstring."""
    from fitwheel.select import resolve_page
    from fitwheel.variants.metadata import loads_variants_document

    source, output = Path(source).resolve(), Path(output).resolve()
    if not source.is_dir():
        raise FitwheelError(f"{source}: not a folder")
    if output == source or source in output.parents:
        raise FitwheelError(f"{output}: the output folder must not be inside the source folder")
    output.mkdir(parents=True, exist_ok=True)
    state = _load_state(output, source)
    scan = scan_folder(source, state.get("files", {}), progress)
    writer = _Output(output)

    projects: dict[str, list[ScannedFile]] = {}
    for file in scan.files:
        projects.setdefault(file.project, []).append(file)
    for project, files in sorted(projects.items()):
        generated = _release_documents(source, files, scan.changed, output)
        entries: list[IndexFile] = []
        origin: dict[str, Path | bytes] = {}
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
            origin[file.filename] = source / file.filename
        documents: dict[str, VariantsDocument | str] = {}
        for version, (name, data) in generated.items():
            entries.append(
                IndexFile(
                    filename=name,
                    url=name,
                    hashes=MappingProxyType({"sha256": hashlib.sha256(data).hexdigest()}),
                    size=len(data),
                )
            )
            origin[name] = data
            documents[version] = loads_variants_document(data, where=str(output / project / name))
        versions = tuple(str(v) for v in sorted({Version(f.version) for f in files}))
        page = ProjectPage(name=project, url="", files=tuple(entries), versions=versions)
        if profile is not None:
            page = resolve_page(
                page,
                profile,
                documents,
                tags=tags,
                provided_namespaces=provided_namespaces,
                only_chosen=True,
            )
        listed = []
        for entry in page.files:
            what = origin[entry.url]
            relative = f"{project}/{entry.filename}"
            if isinstance(what, bytes):
                writer.data(relative, what)
            else:
                writer.link(relative, what)
                if entry.core_metadata is not False:
                    writer.metadata(
                        f"{relative}.metadata",
                        what,
                        scan.metadata.get(what.name),
                        renamed=entry.filename != what.name,
                    )
            listed.append(replace(entry, url=_link(base_url, project, entry.filename)))
        page = replace(page, files=tuple(listed))
        writer.data(f"{project}/index.html", html_project_page(page))
        writer.data(f"{project}/index.json", json_project_page(page))

    names = sorted(projects)
    writer.data("index.html", html_root_page(names))
    writer.data("index.json", json_root_page(names))
    for stale in sorted(set(state.get("outputs", [])) - writer.paths):
        (output / stale).unlink(missing_ok=True)
    state = {
        "format": _STATE_FORMAT,
        "source": str(source),
        "files": cache_records(scan.files),
        "outputs": sorted(writer.paths),
    }
    tmp = output / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, output / STATE_FILE)
    return BuildReport(
        projects=len(projects),
        files=len(scan.files),
        read=len(scan.changed),
        written=writer.written,
        skipped=scan.skipped,
    )
