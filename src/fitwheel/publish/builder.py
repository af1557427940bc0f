"""`fitwheel build`: every planned variant built by the project's backend, made a variant wheel,
and published into the output folder together with the release's `variants.json`.

Each build runs in its own copy of the project (backends write `build/` folders into it) and
its own environment. Results wait in a staging folder beside the output; they are moved in
only at the end, wheels first and `variants.json` last, so the output never holds a
half-built release. Nothing is printed: progress goes to a callback, the result is a report.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from fitwheel.errors import FitwheelError, VariantBuildFailed
from fitwheel.publish.backend import BuildStopped, require_build_frontend, run_backend
from fitwheel.publish.forms import build_environment
from fitwheel.publish.plan import BuildPlan, VariantBuild
from fitwheel.variants.properties import VariantDescription
from fitwheel.wheel.archive import open_wheel
from fitwheel.wheel.generate import Release, generate_variants_json, release_of
from fitwheel.wheel.variant import make_variant

LABEL_VARIABLE = "FITWHEEL_VARIANT_LABEL"
PROPERTIES_VARIABLE = "FITWHEEL_VARIANT_PROPERTIES"
# Never copied into a build's copy of the project: VCS data, virtual environments, earlier
# build output (a stale `build/` would be reused by setuptools with the old flags).
_IGNORED_AT_ROOT = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "build"})
_IGNORED_ANYWHERE = ("__pycache__", "*.egg-info", ".fitwheel-build-*")


class Status(Enum):
    BUILT = "built"
    FAILED = "failed"
    STOPPED = "stopped"
    """Not built: another variant failed first (without --keep-going)."""


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


@dataclass(frozen=True)
class _Staged:
    build: VariantBuild
    wheel: Path
    content: str
    seconds: float
    log: str


def variant_environment(build: VariantBuild, base: Mapping[str, str]) -> dict[str, str]:
    """`base` plus the variant's flags in every form, and its label and properties (one per
    line) for build scripts that choose by them."""
    env = dict(base)
    env.update(build_environment(build.flags, base))
    env[LABEL_VARIABLE] = build.label
    env[PROPERTIES_VARIABLE] = "\n".join(str(p) for p in sorted(build.description.properties))
    return env


def _ignore(root: Path, extra: frozenset[str]) -> Callable[[str, list[str]], set[str]]:
    patterns = shutil.ignore_patterns(*_IGNORED_ANYWHERE)

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = set(patterns(directory, names))
        if Path(directory) == root:
            ignored |= (_IGNORED_AT_ROOT | extra) & set(names)
        return ignored

    return ignore


def _content_digest(wheel: Path) -> str:
    """Identity of what the wheel installs: its RECORD (a hash per file), line order ignored."""
    archive = open_wheel(wheel)
    record = archive.read_dist_info("RECORD") or b""
    lines = sorted(line for line in record.decode(errors="replace").splitlines() if line)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class _Job:
    """The work of one variant, run on a worker thread."""

    def __init__(
        self,
        project: Path,
        plan: BuildPlan,
        work: Path,
        staging: Path,
        *,
        isolation: bool,
        config_settings: Sequence[str],
        env: Mapping[str, str],
        skip: frozenset[str],
        keep_going: bool,
        progress: Progress | None,
    ) -> None:
        self.project = project
        self.plan = plan
        self.work = work
        self.staging = staging
        self.isolation = isolation
        self.config_settings = config_settings
        self.env = env
        self.skip = skip
        self.keep_going = keep_going
        self.progress = progress
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.logs: dict[str, str] = {}
        self.outcomes: dict[str, BuildOutcome] = {}
        self.staged: list[_Staged] = []

    def _note(self, build: VariantBuild, event: str, outcome: BuildOutcome | None = None) -> None:
        with self.lock:
            if outcome is not None:
                self.outcomes[build.label] = outcome
            if self.progress is not None:
                self.progress(build.label, event)

    def run(self, index: int, build: VariantBuild) -> None:
        """Build one variant and record the outcome; a failure stops the others unless
        keep_going."""
        stopped = BuildOutcome(build.label, build.description, Status.STOPPED)
        if self.stop.is_set():
            self._note(build, "stopped", stopped)
            return
        self._note(build, "started")
        start = time.monotonic()
        try:
            result = self(index, build)
        except BuildStopped:
            self._note(build, "stopped", stopped)
            return
        except VariantBuildFailed as exc:
            if not self.keep_going:
                self.stop.set()
            failed = BuildOutcome(
                build.label,
                build.description,
                Status.FAILED,
                seconds=time.monotonic() - start,
                error=exc,
                log=self.logs.get(build.label, ""),
            )
            self._note(build, "failed", failed)
            return
        built = BuildOutcome(build.label, build.description, Status.BUILT, seconds=result.seconds)
        with self.lock:
            self.staged.append(result)
        self._note(build, "built", built)

    def __call__(self, index: int, build: VariantBuild) -> _Staged:
        start = time.monotonic()
        root = self.work / f"{index:03d}-{build.label}"
        source, out = root / "source", root / "wheel"
        shutil.copytree(
            self.project, source, symlinks=True, ignore=_ignore(self.project, self.skip)
        )
        out.mkdir()
        settings = [s.replace("{label}", build.label) for s in self.config_settings]
        result = run_backend(
            source,
            out,
            variant_environment(build, self.env),
            isolation=self.isolation,
            config_settings=settings,
            stop=self.stop,
        )
        self.logs[build.label] = result.output
        if result.returncode != 0:
            raise VariantBuildFailed(
                build.label,
                f"the build backend failed (exit status {result.returncode}): {result.reason}",
            )
        if len(result.wheels) != 1:
            found = ", ".join(w.name for w in result.wheels) or "none"
            raise VariantBuildFailed(
                build.label, f"the build backend must make exactly one wheel; it made {found}"
            )
        (wheel,) = result.wheels
        try:
            staged = make_variant(
                wheel,
                self.staging,
                sorted(build.description.properties),
                label=None if build.is_null else build.label,
                null=build.is_null,
                namespace_priorities=self.plan.namespace_priorities,
                providers=self.plan.providers,
                static_properties=self.plan.static_properties,
            )
        except FitwheelError as exc:
            raise VariantBuildFailed(build.label, f"cannot make a variant wheel: {exc}") from None
        return _Staged(
            build, staged, _content_digest(wheel), time.monotonic() - start, result.output
        )


def _identical_warnings(staged: Sequence[_Staged]) -> list[str]:
    warnings = []
    first: dict[str, _Staged] = {}
    for item in staged:
        other = first.setdefault(item.content, item)
        if other is not item:
            warnings.append(
                f"variants {other.build.label!r} and {item.build.label!r} built byte-identical "
                "files although their properties differ: the build backend ignores the "
                "variant's flags (CFLAGS, CMAKE_ARGS, ...) and FITWHEEL_VARIANT_* variables"
            )
    return warnings


def _publish(staged: Sequence[_Staged], staging: Path, outdir: Path) -> tuple[Path, ...]:
    """Move the staged wheels into `outdir`, then the merged `variants.json` files.

    The merge with what `outdir` already holds is done in staging first: a label that
    changed meaning fails there, before `outdir` is touched.
    """
    releases: set[Release] = {release_of(item.wheel.name) for item in staged}
    for release in releases:
        existing = outdir / release.variants_json_name
        if existing.exists():
            shutil.copyfile(existing, staging / release.variants_json_name)
    written = generate_variants_json(staging)
    outdir.mkdir(parents=True, exist_ok=True)
    for item in staged:
        os.replace(item.wheel, outdir / item.wheel.name)
    published = []
    for path in written:
        os.replace(path, outdir / path.name)
        published.append(outdir / path.name)
    return tuple(published)


def _publish_staged(
    staged: list[_Staged],
    plan: BuildPlan,
    staging: Path,
    outdir: Path,
    outcomes: dict[str, BuildOutcome],
) -> tuple[Path, ...]:
    """Publish, in plan order, and record where each wheel went."""
    order = {b.label: i for i, b in enumerate(plan.builds)}
    staged.sort(key=lambda item: order[item.build.label])
    published = _publish(staged, staging, outdir)
    for item in staged:
        final = outdir / item.wheel.name
        outcomes[item.build.label] = BuildOutcome(
            item.build.label,
            item.build.description,
            Status.BUILT,
            seconds=item.seconds,
            wheel=final,
            size=final.stat().st_size,
            log=item.log,
        )
    return published


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
    by the variant's label) go to the backend. Raises for a project that cannot be built at
    all; a variant's failure is in the report (`report.failures`).
    """
    require_build_frontend()
    project = Path(project).resolve()
    outdir = Path(outdir).resolve()
    if not (project / "pyproject.toml").is_file() and not (project / "setup.py").is_file():
        raise FitwheelError(f"{project}: no pyproject.toml or setup.py, not a project to build")
    if jobs < 1:
        raise FitwheelError(f"--jobs must be at least 1, not {jobs}")
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="fitwheel-build-") as work,
        tempfile.TemporaryDirectory(prefix=".fitwheel-build-", dir=outdir.parent) as staging,
    ):
        job = _Job(
            project,
            plan,
            Path(work),
            Path(staging),
            isolation=isolation,
            config_settings=config_settings,
            env=dict(os.environ if env is None else env),
            skip=frozenset({outdir.name}) if outdir.parent == project else frozenset(),
            keep_going=keep_going,
            progress=progress,
        )
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(job.run, i, b) for i, b in enumerate(plan.builds)]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                # Ctrl-C or a bug: the running builds (in their own sessions, out of reach
                # of the terminal's signal) are killed, the pending ones never start.
                job.stop.set()
                raise
        failed = any(o.status is not Status.BUILT for o in job.outcomes.values())
        published: tuple[Path, ...] = ()
        if job.staged and (keep_going or not failed):
            published = _publish_staged(job.staged, plan, Path(staging), outdir, job.outcomes)
    return VariantBuildReport(
        tuple(job.outcomes[b.label] for b in plan.builds),
        published,
        tuple(_identical_warnings(job.staged)),
    )
