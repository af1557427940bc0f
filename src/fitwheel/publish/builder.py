"""`fitwheel build`: the variants of a plan built side by side, and the outcome of each.

Up to `jobs` variants build at once, each in a folder of its own while it runs
(`publish.variant`). The first
failure stops the others, unless told to keep going. Results wait in a staging folder beside
the output and are published only at the end (`publish.release`), so the output never holds a
half-built release. Nothing is printed: progress goes to a callback, the result is a report.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from fitwheel.errors import FitwheelError, VariantBuildFailed
from fitwheel.publish.backend import BuildStopped, require_build_frontend
from fitwheel.publish.plan import BuildPlan, VariantBuild
from fitwheel.publish.release import publish_release
from fitwheel.publish.variant import BuildOptions, StagedWheel, build_variant
from fitwheel.variants.properties import VariantDescription


class Status(Enum):
    BUILT = "built"
    FAILED = "failed"
    STOPPED = "stopped"
    """Not built: another variant failed first (without keep_going), or the run was stopped."""


@dataclass(frozen=True)
class BuildOutcome:
    """One variant's result; `wheel` is where it was published (None when not published)."""

    label: str
    description: VariantDescription
    status: Status
    seconds: float = 0.0
    wheel: Path | None = None
    size: int = 0
    error: VariantBuildFailed | None = None
    log: str = ""


@dataclass(frozen=True)
class VariantBuildReport:
    outcomes: tuple[BuildOutcome, ...]
    variants_json: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[BuildOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.FAILED)

    @property
    def ok(self) -> bool:
        return all(o.status is Status.BUILT for o in self.outcomes)


Progress = Callable[[str, str], None]
"""`progress(label, event)`, event one of `started`, `built`, `failed`, `stopped`."""


class _Scheduler:
    """Runs variants on worker threads and records how each ended."""

    def __init__(
        self,
        run: Callable[[VariantBuild, threading.Event, dict[str, str]], StagedWheel],
        *,
        keep_going: bool,
        progress: Progress | None,
    ) -> None:
        self._run = run
        self.stop = threading.Event()
        self.keep_going = keep_going
        self.progress = progress
        self._lock = threading.Lock()
        self.logs: dict[str, str] = {}
        self.outcomes: dict[str, BuildOutcome] = {}
        self.staged: list[StagedWheel] = []

    def _note(self, build: VariantBuild, event: str, outcome: BuildOutcome | None = None) -> None:
        with self._lock:
            if outcome is not None:
                self.outcomes[build.label] = outcome
            if self.progress is not None:
                self.progress(build.label, event)

    def run(self, build: VariantBuild) -> None:
        stopped = BuildOutcome(build.label, build.description, Status.STOPPED)
        if self.stop.is_set():
            self._note(build, "stopped", stopped)
            return
        self._note(build, "started")
        start = time.monotonic()
        try:
            staged = self._run(build, self.stop, self.logs)
        except BuildStopped:
            self._note(build, "stopped", stopped)
            return
        except VariantBuildFailed as exc:
            if not self.keep_going:
                self.stop.set()
            seconds = time.monotonic() - start
            failed = BuildOutcome(
                build.label,
                build.description,
                Status.FAILED,
                seconds=seconds,
                error=exc,
                log=self.logs.get(build.label, ""),
            )
            self._note(build, "failed", failed)
            return
        with self._lock:
            self.staged.append(staged)
        built = BuildOutcome(build.label, build.description, Status.BUILT, seconds=staged.seconds)
        self._note(build, "built", built)

    def run_all(self, builds: Sequence[VariantBuild], jobs: int) -> None:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(self.run, build) for build in builds]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
                for future in futures:
                    future.result()
            except BaseException:
                # Ctrl-C or a bug: the running builds (in their own sessions, out of reach
                # of the terminal's signal) are killed, the pending ones never start.
                self.stop.set()
                raise


def identical_builds(staged: Sequence[StagedWheel]) -> list[str]:
    """Warnings for variants whose backend built the very same files."""
    warnings = []
    first: dict[str, StagedWheel] = {}
    for item in staged:
        other = first.setdefault(item.content, item)
        if other is not item:
            warnings.append(
                f"variants {other.build.label!r} and {item.build.label!r} built byte-identical "
                "files although their properties differ: the build backend ignores the "
                "variant's flags (CFLAGS, CMAKE_ARGS, ...) and FITWHEEL_VARIANT_* variables"
            )
    return warnings


def _published(staged: StagedWheel, outdir: Path) -> BuildOutcome:
    final = outdir / staged.wheel.name
    return BuildOutcome(
        staged.build.label,
        staged.build.description,
        Status.BUILT,
        seconds=staged.seconds,
        wheel=final,
        size=final.stat().st_size,
        log=staged.log,
    )


def build_variants(
    project: str | Path,
    plan: BuildPlan,
    outdir: str | Path,
    *,
    jobs: int = 1,
    keep_going: bool = False,
    isolation: bool = True,
    config_settings: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> VariantBuildReport:
    """Build every variant of `plan` from the project in `project` into `outdir`.

    Up to `jobs` builds run at once. The first failure stops the others (killed or never
    started) and nothing is published, unless `keep_going`: then every build runs and the
    ones that succeeded are published. `config_settings` (`KEY=VALUE`, `{label}` replaced
    by the variant's label) go to the backend; `env` is the environment to start from (this
    process's by default). Raises for a project that cannot be built at all; a variant's
    failure is in the report (`report.failures`).
    """
    require_build_frontend()
    plan.release_document()  # every variant.json can be written: found before any build runs
    project = Path(project).resolve()
    outdir = Path(outdir).resolve()
    if not (project / "pyproject.toml").is_file() and not (project / "setup.py").is_file():
        raise FitwheelError(f"{project}: no pyproject.toml or setup.py, not a project to build")
    if jobs < 1:
        raise FitwheelError(f"--jobs must be at least 1, not {jobs}")
    options = BuildOptions(
        isolation, tuple(config_settings), dict(os.environ if env is None else env)
    )
    skip = (outdir.name,) if outdir.parent == project else ()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="fitwheel-build-") as work,
        tempfile.TemporaryDirectory(prefix=".fitwheel-build-", dir=outdir.parent) as staging,
    ):
        # One folder per worker, reused by its builds: a compiler that records where it ran
        # (debug information) then writes the same path into every variant built there, so
        # byte-identical output really means the backend ignored the flags.
        folders: queue.SimpleQueue[Path] = queue.SimpleQueue()
        for slot in range(jobs):
            folders.put(Path(work) / f"worker-{slot}")

        def run(build: VariantBuild, stop: threading.Event, logs: dict[str, str]) -> StagedWheel:
            folder = folders.get()
            try:
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                return build_variant(
                    build,
                    plan,
                    project=project,
                    work=folder,
                    staging=Path(staging),
                    options=options,
                    skip=skip,
                    stop=stop,
                    logs=logs,
                )
            finally:
                folders.put(folder)

        scheduler = _Scheduler(run, keep_going=keep_going, progress=progress)
        scheduler.run_all(plan.builds, jobs)
        outcomes = scheduler.outcomes
        order = {build.label: i for i, build in enumerate(plan.builds)}
        staged = sorted(scheduler.staged, key=lambda item: order[item.build.label])
        published: tuple[Path, ...] = ()
        if staged and (keep_going or all(o.status is Status.BUILT for o in outcomes.values())):
            published = publish_release([item.wheel for item in staged], Path(staging), outdir)
            outcomes.update({item.build.label: _published(item, outdir) for item in staged})
    return VariantBuildReport(
        tuple(outcomes[build.label] for build in plan.builds),
        published,
        tuple(identical_builds(staged)),
    )
