"""A real resolver per target: pip behind the resolving proxy, mapped back to upstream files.

One proxy serves every target's profile (`/p/tN/simple/`); pip resolves the requirements
against each in turn (`pip install --dry-run --ignore-installed --report`, wheels only, with
the profile's interpreter as `--python-version`/`--implementation`/`--abi`/`--platform`). The
proxy lists a chosen variant wheel under its label-less name, so each file pip reports is
mapped back through the same page resolution (`resolve_page`) to the upstream file it stands
for: its real, labelled filename, URL and hashes.

pip evaluates dependency markers for the interpreter it runs on, not the target's: a target
with another Python version or platform gets that interpreter's marker answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from fitwheel.errors import InstallerNotFound, ResolutionFailed
from fitwheel.index import Documents
from fitwheel.index.client import ClientSettings, IndexClient
from fitwheel.index.credentials import redact
from fitwheel.index.filenames import classify
from fitwheel.index.model import ProjectPage
from fitwheel.index.network import NetworkOptions
from fitwheel.lock.merge import ResolvedFile, TargetResolution
from fitwheel.profile import Profile
from fitwheel.select import Target, resolve_page
from fitwheel.serve.app import ServeConfig, make_app
from fitwheel.serve.server import BackgroundServer
from fitwheel.serve.upstreams import Upstreams
from fitwheel.variants.metadata import VariantsDocument

PIP_TIMEOUT = 600.0
"""Seconds one target's resolution may take."""


@dataclass(frozen=True)
class LockTarget:
    """A machine the lock is made for: a name (shown to people) and its profile."""

    name: str
    profile: Profile


@dataclass(frozen=True)
class Requirements:
    """What to lock: requirement strings and requirements files (pip's `-r`)."""

    specifiers: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @classmethod
    def of(cls, arguments: Sequence[str], files: Sequence[str] = ()) -> Requirements:
        """Requirements as given on a command line: a `pyproject.toml` among them stands for
        its `[project] dependencies`."""
        specifiers: list[str] = []
        for argument in arguments:
            if Path(argument).name == "pyproject.toml" and Path(argument).is_file():
                specifiers.extend(project_dependencies(Path(argument)))
            else:
                specifiers.append(argument)
        return cls(tuple(specifiers), tuple(files))


def project_dependencies(path: Path) -> tuple[str, ...]:
    """`[project] dependencies` of a `pyproject.toml` (PEP 621)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ResolutionFailed(f"{path}: cannot read it: {exc}") from None
    project = document.get("project")
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise ResolutionFailed(f"{path}: no [project] dependencies list to lock")
    return tuple(dependencies)


@dataclass(frozen=True)
class _Picked:
    """One item of pip's report."""

    project: str
    version: str
    url: str
    sha256: str | None


def resolve_targets(
    requirements: Requirements,
    index_urls: Sequence[str],
    targets: Sequence[LockTarget],
    *,
    python: str | None = None,
    network: NetworkOptions | None = None,
) -> list[TargetResolution]:
    """Resolve `requirements` for each target; each file is the upstream's, under its real name.
    `network`: how to reach the indexes (default: as the environment says)."""
    network = network or NetworkOptions.from_environment()
    upstreams = Upstreams(tuple(index_urls))
    routes = {f"t{i}": target for i, target in enumerate(targets)}
    config = ServeConfig(
        upstreams,
        {route: target.profile for route, target in routes.items()},
        client=ClientSettings(retries=1, network=network).with_timeout(30.0),
    )
    picked: dict[str, list[_Picked]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="fitwheel-lock-") as scratch,
        BackgroundServer(lambda: make_app(config)) as server,
    ):
        for route, target in routes.items():
            index_url = f"{server.url}/p/{route}/simple/"
            report = Path(scratch) / f"report-{route}.json"
            picked[route] = _run_pip(
                requirements, index_url, target, report, python or sys.executable
            )
    projects = sorted({p.project for items in picked.values() for p in items})
    pages = asyncio.run(_fetch(upstreams, projects, network))
    return [
        TargetResolution(
            name=target.name,
            environment=Target.of(target.profile).environment,
            files=_map_back(target, picked[route], pages, upstreams),
        )
        for route, target in routes.items()
    ]


def _interpreter_options(profile: Profile) -> list[str]:
    interpreter = profile.interpreter
    if interpreter is None:
        return []
    options = ["--python-version", interpreter.full_version]
    if interpreter.implementation == "cpython":
        options += ["--implementation", "cp"]
    for abi in interpreter.abis or ():
        options += ["--abi", abi]
    for platform in interpreter.platforms or ():
        options += ["--platform", platform]
    return options


def _run_pip(
    requirements: Requirements, index_url: str, target: LockTarget, report: Path, python: str
) -> list[_Picked]:
    scratch = report.parent
    last = scratch / f"index-{report.stem}.txt"
    # Read after the user's files: pip lets a requirements file's index line replace ours.
    last.write_text(f"--index-url {index_url}\n", encoding="utf-8")
    command = [
        python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
        "--report", str(report), "--only-binary", ":all:", "--index-url", index_url,
        # pip takes another interpreter's tags only for a --target install (never written:
        # --dry-run); the folder keeps this environment's packages out of the resolution.
        "--target", str(scratch / "never-written"),
        *_interpreter_options(target.profile),
        *requirements.specifiers,
    ]  # fmt: skip
    for file in requirements.files:
        command += ["-r", file]
    command += ["-r", str(last)]
    env = dict(os.environ)
    env.update(
        PIP_INDEX_URL=index_url,
        # Whitespace clears configured extra indexes (which would bypass the proxy).
        PIP_EXTRA_INDEX_URL=" ",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False
        )
    except OSError as exc:
        raise InstallerNotFound(f"cannot run {python} -m pip: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise ResolutionFailed(
            f"target {target.name!r}: pip did not finish in {PIP_TIMEOUT:.0f} s"
        ) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        why = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise ResolutionFailed(f"target {target.name!r} ({target.profile.source}): pip: {why}")
    return [_picked(item) for item in json.loads(report.read_text(encoding="utf-8"))["install"]]


def _picked(item: Mapping[str, Any]) -> _Picked:
    metadata, download = item["metadata"], item["download_info"]
    archive = download.get("archive_info") or {}
    hashes = dict(archive.get("hashes") or {})
    if not hashes and "=" in (archive.get("hash") or ""):
        algorithm, _, digest = archive["hash"].partition("=")
        hashes[algorithm] = digest
    return _Picked(
        canonicalize_name(metadata["name"]),
        metadata["version"],
        download["url"],
        hashes.get("sha256"),
    )


async def _fetch(
    upstreams: Upstreams, projects: Sequence[str], network: NetworkOptions
) -> dict[str, tuple[ProjectPage, Documents]]:
    async with IndexClient(ClientSettings(network=network)) as client:

        async def one(project: str) -> tuple[ProjectPage, Documents]:
            page = await upstreams.project_page(client, project)
            return page, await client.variants_documents(page)

        found = await asyncio.gather(*(one(p) for p in projects))
    return dict(zip(projects, found, strict=True))


def _map_back(
    target: LockTarget,
    picked: Sequence[_Picked],
    pages: Mapping[str, tuple[ProjectPage, Documents]],
    upstreams: Upstreams,
) -> tuple[ResolvedFile, ...]:
    selection = Target.of(target.profile)
    files = []
    for item in picked:
        page, documents = pages[item.project]
        served = {f.filename: f for f in resolve_page(page, selection, documents).files}
        filename = unquote(PurePosixPath(urlsplit(item.url).path).name)
        listed = served.get(filename)
        upstream = next((f for f in page.files if listed and f.url == listed.url), None)
        name = classify(upstream.filename, page.name) if upstream else None
        if upstream is None or name is None or str(name.version) != item.version:
            raise ResolutionFailed(
                f"target {target.name!r}: pip chose {filename} ({item.project} {item.version}), "
                f"which the upstream page {page.url} does not list"
            )
        if not upstream.hashes and item.sha256:
            upstream = replace(upstream, hashes={"sha256": item.sha256})
        # A lock is shared: a token given in an index URL must never be written into it.
        upstream = replace(upstream, url=redact(upstream.url))
        document = documents.get(item.version) if name.label is not None else None
        files.append(
            ResolvedFile(
                project=item.project,
                version=item.version,
                file=upstream,
                index=_index_of(page, upstreams),
                variants=document if isinstance(document, VariantsDocument) else None,
            )
        )
    return tuple(files)


def _index_of(page: ProjectPage, upstreams: Upstreams) -> str | None:
    page_url = redact(page.url)
    return next(
        (redact(u) for u in upstreams.urls if page_url.startswith(redact(u).rstrip("/") + "/")),
        None,
    )
