"""`index build`: a static simple index (PEP 503 HTML + PEP 691 JSON) from a folder of files.

Layout of the output folder, which any static web server can serve as-is (except its dot
files: the state file and the lock, which the server should refuse):

    index.html, index.json                  root pages
    {project}/index.html, index.json        project pages
    {project}/{file}                        the distributions (copies)
    {project}/{wheel}.metadata              PEP 658/714 sidecars
    {project}/{name}-{version}-variants.json
    .fitwheel-index.json, .fitwheel-index.lock

The state file remembers what each source file gave, so a re-run reads only new or changed
files and rewrites only what changes, and which projects and files the builder created: it
deletes nothing else. A folder that has content but no state file is someone else's: the
build refuses it unless forced. A project gone from the source folder stays published until a
build with `prune`. Builds of one output folder take turns (`lock`). With a page transformation
(a resolved index), each project page is passed through it before it is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fitwheel.errors import FitwheelError
from fitwheel.files import is_temporary
from fitwheel.index.lock import LOCK_FILE, build_lock
from fitwheel.index.output import OutputFolder, remove_temporaries
from fitwheel.index.pages import html_root_page, json_root_page
from fitwheel.index.project import ProjectResult, ProjectTask, Resolve, build_project
from fitwheel.index.scan import Progress, Skipped, from_record, list_folder, record_of, unchanged
from fitwheel.index.state import (
    ROOT_PAGES,
    BuildState,
    InvalidBuildState,
    load_state,
    save_state,
    source_key,
)
from fitwheel.index.workers import map_in_workers

__all__ = ["BuildReport", "OutputNotOwned", "Resolve", "build_index"]


class OutputNotOwned(FitwheelError):
    """The output folder (or a project folder in it) was not made by `index build`."""


@dataclass(frozen=True)
class BuildReport:
    projects: int
    files: int
    read: int
    """Source files read this run (the rest came from the state file)."""
    written: int
    """Output files created or changed this run."""
    skipped: tuple[Skipped, ...]
    """Names in the source folder that are not published, and why."""
    kept: tuple[str, ...] = ()
    """Projects gone from the source folder and still published (no `prune`)."""
    pruned: tuple[str, ...] = ()
    """Projects gone from the source folder whose files this run removed."""


_PARALLEL_FROM = 512
"""Build projects in worker processes from this many files to read on."""


def _build_projects(tasks: Sequence[ProjectTask]) -> Iterator[ProjectResult]:
    """`build_project` of each task, in order: in worker processes for a large plain index
    (reading is CPU-bound: hashing, unzipping); a resolved index's transformation stays here."""
    todo = sum(len(t.todo) for t in tasks)
    workers = min(todo // (_PARALLEL_FROM // 2), os.cpu_count() or 1)
    if workers < 2 or any(t.resolve is not None for t in tasks):
        yield from map(build_project, tasks)
        return
    chunks = max(1, len(tasks) // (workers * 8))
    yield from map_in_workers(build_project, tasks, workers=workers, chunksize=chunks)


def _foreign_entries(output: Path) -> list[str]:
    """What is in `output` besides the builder's own lock and temporaries."""
    return sorted(
        name for name in os.listdir(output) if name != LOCK_FILE and not is_temporary(name)
    )


def _owned_state(output: Path, source: Path, force: bool) -> BuildState:
    """The state to build on: the folder's own, or a fresh one where none is believed."""
    fresh = BuildState(source_key(source))
    try:
        state = load_state(output)
    except InvalidBuildState:
        if force:
            return fresh
        raise
    if state is None:
        foreign = _foreign_entries(output)
        if foreign and not force:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutputNotOwned(
                f"{output} is not empty ({shown}) and was not written by index build: "
                "choose an empty or new folder, or pass --force to write into it (nothing "
                "already there is deleted)"
            )
        return fresh
    if state.source != fresh.source:
        return BuildState(fresh.source, {}, state.projects)
    return state


def build_index(
    source: str | Path,
    output: str | Path,
    *,
    base_url: str | None = None,
    resolve: Resolve | None = None,
    force: bool = False,
    prune: bool = False,
    progress: Progress | None = None,
    on_wait: Callable[[], None] | None = None,
    skip_unreadable: bool = False,
) -> BuildReport:
    """Write (or update) the static index of `source` into `output`; see the module docstring.

    `resolve` makes a resolved index: it receives each project's full page and its releases'
    variants documents, and returns the page to publish (only files it keeps are written).
    `force` writes into a folder the builder did not make (or whose state file it cannot
    believe); `prune` removes the projects it made that are gone from `source`; `on_wait` is
    called if another build holds the output folder's lock (this one then waits its turn);
    `skip_unreadable` leaves out a wheel whose zip structure cannot be read (reported in
    `skipped` with the reason) instead of failing the whole build on it.
    """
    source, output = Path(source).resolve(), Path(output).resolve()
    if not source.is_dir():
        raise FitwheelError(f"{source}: not a folder")
    if output == source or source in output.parents:
        raise FitwheelError(f"{output}: the output folder must not be inside the source folder")
    if output in source.parents:
        raise FitwheelError(f"{output}: the output folder must not contain the source folder")
    output.mkdir(parents=True, exist_ok=True)
    with build_lock(output, on_wait):
        return _build_locked(
            source, output, base_url, resolve, force, prune, progress, skip_unreadable
        )


def _task(
    source: Path,
    output: Path,
    project: str,
    paths: Sequence[str],
    state: BuildState,
    base_url: str | None,
    resolve: Resolve | None,
) -> ProjectTask:
    """A project's files split into those the state still vouches for and those to read."""
    known, todo = [], []
    for relative in paths:
        record = state.files.get(relative)
        file = from_record(record, relative, project) if isinstance(record, Mapping) else None
        if file is not None and unchanged(source, file):
            known.append(file)
        else:
            todo.append(relative)
    previous = state.projects.get(project, ())
    return ProjectTask(
        source, output, project, tuple(known), tuple(todo), previous, base_url, resolve
    )


def _build_locked(
    source: Path,
    output: Path,
    base_url: str | None,
    resolve: Resolve | None,
    force: bool,
    prune: bool,
    progress: Progress | None,
    skip_unreadable: bool,
) -> BuildReport:
    state = _owned_state(output, source, force)
    remove_temporaries(str(output))
    listing = list_folder(source)
    for project in listing.projects:
        if project not in state.projects and (output / project).exists() and not force:
            raise OutputNotOwned(
                f"{output / project} was not written by index build: move it away, or pass "
                "--force to write the project's pages into it"
            )
    # Claim the project folders before making them: a build killed halfway still owns them.
    claimed = {**{p: () for p in listing.projects}, **state.projects}
    save_state(output, BuildState(state.source, state.files, claimed))

    tasks = [
        replace(
            _task(source, output, project, paths, state, base_url, resolve),
            skip_unreadable=skip_unreadable,
        )
        for project, paths in sorted(listing.projects.items())
    ]
    total = sum(len(t.todo) for t in tasks)

    owned: dict[str, tuple[str, ...]] = dict(claimed)
    files: dict[str, Mapping[str, object]] = {}
    built: list[str] = []
    skipped, read, written = list(listing.skipped), 0, 0
    for result in _build_projects(tasks):
        read += result.read
        written += result.written
        skipped += result.skipped
        if progress is not None and result.read:
            progress(read, total)
        if result.outputs:
            built.append(result.project)
            owned[result.project] = result.outputs
            files.update((f.path, record_of(f)) for f in result.files)
        elif not state.projects.get(result.project):
            del owned[result.project]  # claimed, never written: not ours after all

    gone = sorted(p for p, names in owned.items() if p not in built and names)
    listed = sorted(built) if prune else sorted([*built, *gone])
    root = OutputFolder(str(output))
    root.put(ROOT_PAGES[0], html_root_page(listed))
    root.put(ROOT_PAGES[1], json_root_page(listed))
    pruned = []
    if prune:
        for project in gone:
            for name in owned.pop(project):
                root.remove(project, name)
            root.remove_folder(project)
            pruned.append(project)
    save_state(output, BuildState(state.source, files, owned))
    return BuildReport(
        projects=len(listed),
        files=len(files),
        read=read,
        written=written + root.written,
        skipped=tuple(sorted(skipped)),
        kept=() if prune else tuple(gone),
        pruned=tuple(pruned),
    )
