"""One variant: the project's backend run with the variant's environment, and its wheel made a
variant wheel in the staging folder."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fitwheel.errors import FitwheelError, VariantBuildFailed
from fitwheel.publish.backend import run_backend
from fitwheel.publish.forms import build_environment
from fitwheel.publish.plan import BuildPlan, VariantBuild
from fitwheel.publish.workspace import copy_project
from fitwheel.wheel.archive import open_wheel
from fitwheel.wheel.variant import make_variant

LABEL_VARIABLE = "FITWHEEL_VARIANT_LABEL"
PROPERTIES_VARIABLE = "FITWHEEL_VARIANT_PROPERTIES"


@dataclass(frozen=True)
class BuildOptions:
    """How every variant is built: pypa/build's isolation, the backend's config settings
    (`KEY=VALUE`, `{label}` replaced by the variant's), the environment to start from."""

    isolation: bool = True
    config_settings: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StagedWheel:
    """A variant wheel waiting in staging, with what its build left to report."""

    build: VariantBuild
    wheel: Path
    content: str
    """Identity of the files the backend built (its RECORD, order ignored)."""
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


def content_digest(wheel: Path) -> str:
    """Identity of what the wheel installs: its RECORD (a hash per file), line order ignored."""
    record = open_wheel(wheel).read_dist_info("RECORD") or b""
    lines = sorted(line for line in record.decode(errors="replace").splitlines() if line)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def build_variant(
    build: VariantBuild,
    plan: BuildPlan,
    *,
    project: Path,
    work: Path,
    staging: Path,
    options: BuildOptions,
    skip: Sequence[str] = (),
    stop: threading.Event | None = None,
    logs: dict[str, str] | None = None,
) -> StagedWheel:
    """Build `build` in `work` (a fresh folder) and stage its variant wheel in `staging`.

    Raises `VariantBuildFailed` naming the variant; the backend's output goes to `logs` (by
    label) whether it succeeded or not. `stop` kills the build (`BuildStopped`).
    """
    start = time.monotonic()
    out = work / "wheel"
    try:
        source = copy_project(project, work / "source", skip=skip)
        out.mkdir()
    except OSError as exc:  # shutil.Error included: a file that cannot be read or written
        raise VariantBuildFailed(
            build.label, f"cannot copy the project to build it: {exc}"
        ) from None
    result = run_backend(
        source,
        out,
        variant_environment(build, options.env),
        isolation=options.isolation,
        config_settings=[s.replace("{label}", build.label) for s in options.config_settings],
        stop=stop,
    )
    if logs is not None:
        logs[build.label] = result.output
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
            staging,
            sorted(build.description.properties),
            label=None if build.is_null else build.label,
            null=build.is_null,
            namespace_priorities=plan.namespace_priorities,
            providers=plan.providers,
            static_properties=plan.static_properties,
        )
        content = content_digest(wheel)
    except FitwheelError as exc:
        raise VariantBuildFailed(build.label, f"cannot make a variant wheel: {exc}") from None
    return StagedWheel(build, staged, content, time.monotonic() - start, result.output)
