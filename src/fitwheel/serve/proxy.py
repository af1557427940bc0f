"""The proxy's state: upstream pages resolved per profile, cached, and the files they list.

A `Proxy` holds the index client (whose `ResponseCache` keeps upstream pages with their
validators), a client session for relaying files, and the explicit caches: resolved pages
(kept `page_ttl` seconds, at most `MAX_CACHED_PAGES` listing at most `MAX_CACHED_FILES` files
in all, concurrent misses coalesced) and the
root page.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import TypeVar
from urllib.parse import quote, unquote, urlsplit

import aiohttp
from aiohttp import web
from packaging.utils import canonicalize_name

from fitwheel.errors import FitwheelError, ProjectNotFound, UpstreamError
from fitwheel.families import Family, family_for
from fitwheel.families.fetch import fetch_with_anchor
from fitwheel.index.client import ClientSettings, IndexClient, ResponseCache
from fitwheel.index.credentials import Credentials, redact
from fitwheel.index.json_api import JSON_CONTENT_TYPE
from fitwheel.index.local import is_local, local_path
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.index.network import open_session
from fitwheel.index.pages import (
    html_project_page,
    html_root_page,
    json_project_page,
    json_root_page,
)
from fitwheel.profile import Profile
from fitwheel.select import (
    ReleaseChoice,
    Target,
    choose_in_family,
    follow_anchor,
    resolve,
    resolve_in_family,
)
from fitwheel.select.choose import summary
from fitwheel.serve.filecache import FileCache
from fitwheel.serve.health import UpstreamHealth
from fitwheel.serve.identity import Identity
from fitwheel.serve.links import LinkPolicy
from fitwheel.serve.record import ChosenBuild as ChosenBuild
from fitwheel.serve.record import Record
from fitwheel.serve.roots import all_projects
from fitwheel.serve.streaming import from_cache, relay
from fitwheel.serve.upstreams import Upstreams

LOG = logging.getLogger(__name__)

DEFAULT_PROFILE = ""
"""The key of the profile served at `/simple/` (fleet profiles are served at `/p/NAME/`)."""


FAILURE_TTL = 5.0
"""Seconds an upstream failure (a page's or a file's) is answered from memory: installers retry
a 5xx (uv three times), and a dead upstream should cost each retry nothing, not another
timeout."""

MAX_CACHED_PAGES = 4096
"""Resolved pages kept (per profile and project); the oldest is dropped beyond this."""

MAX_CACHED_FILES = 200_000
"""Files listed by all resolved pages kept (a page of a huge project counts for its size)."""

MAX_PAGE_BYTES = 64 << 20
"""Bytes an upstream page or variants.json may have, chunked or not: past it the upstream is
lying (PyPI's largest project pages are a few MiB), and the bytes read so far are let go."""


def serve_client_settings(timeout: float = 30.0) -> ClientSettings:
    """How the proxy reads upstream pages: one retry (the installer retries too), bounded."""
    return ClientSettings(retries=1, max_body=MAX_PAGE_BYTES).with_timeout(timeout)


_K = TypeVar("_K")
_E = TypeVar("_E", bound=FitwheelError)


def page_etag(body: bytes) -> str:
    """A page's ETag: a hash of its body."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@dataclass(frozen=True)
class ServeConfig:
    """What one server proxies, and for which profiles."""

    upstreams: Upstreams
    profiles: Mapping[str, Profile]
    """`DEFAULT_PROFILE` -> the profile at `/simple/`; other names -> `/p/NAME/simple/`."""
    page_ttl: float = 60.0
    """Seconds a resolved page is served without asking the upstream again."""
    client: ClientSettings = field(default_factory=serve_client_settings)
    families: tuple[Family, ...] = ()
    """Index families: their projects come from their members only, never from `upstreams`."""
    allow_hosts: tuple[str, ...] = ()
    """Hosts besides the upstreams' own whose file links are passed on (`host[:port]`)."""
    answer_timeout: float = 10.0
    """Seconds an upstream file may take to start answering before the client gets a 504."""
    identity: Identity | None = None
    """A shared proxy's key and secret: answered at `/-/fitwheel` (see `serve.identity`)."""


@dataclass(frozen=True)
class Resolved:
    """A project's page resolved for one profile, and how to serve it."""

    by_filename: Mapping[str, IndexFile]
    streamed: frozenset[str]
    listed: ProjectPage
    """The page as served: streamed files point at `/files/`."""
    expires: float
    chosen: Mapping[str, ChosenBuild] = field(default_factory=dict)
    """Served filename -> the variant build it stands for."""
    choices: tuple[ReleaseChoice, ...] = ()
    """Each release's choice for the profile, newest first (what `fitwheel explain` shows)."""
    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """Explicit cache: content type (or a view's key) -> (rendered body, its ETag), rendered on
    first request."""

    def body(self, content_type: str) -> tuple[bytes, str]:
        if content_type not in self.bodies:
            render = json_project_page if content_type == JSON_CONTENT_TYPE else html_project_page
            body = render(self.listed)
            self.bodies[content_type] = (body, page_etag(body))
        return self.bodies[content_type]


class Proxy:
    """The application's state: the index client, the file session and explicit caches."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.record = Record()
        """Variant builds whose files (or metadata) were served and upstream failures answered,
        for a wrapper to name after the installer finishes."""
        self.links = LinkPolicy.for_upstreams(
            (*config.upstreams.urls, *(f.url for f in config.families)), config.allow_hosts
        )
        self.health = UpstreamHealth(
            [(url, "index") for url in config.upstreams.urls]
            + [(f.url, f"index family {f.name}") for f in config.families]
        )
        """How each upstream answered lately (for the status page)."""
        self._client = IndexClient(config.client, cache=ResponseCache())
        self._files: aiohttp.ClientSession | None = None
        self._small_files = FileCache()
        self._resolved: dict[tuple[str, str], Resolved] = {}
        self._cached_files = 0
        # Computed once per profile: they cost milliseconds per page otherwise.
        self._targets = {name: Target.of(p) for name, p in config.profiles.items()}
        self._root: tuple[float, list[str], dict[bool, tuple[bytes, str]]] | None = None
        self._failed: dict[tuple[str, str], tuple[float, FitwheelError]] = {}
        self._failed_files: dict[str, tuple[float, UpstreamError]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future[Resolved]] = {}

    def offer(self, resolved: Resolved) -> None:
        """Record the builds a page just served stands for (`Record.offered`): what an
        installer that takes a build from elsewhere (its own cache, a family member's index)
        should have got."""
        builds = list(resolved.chosen.values())
        if not builds:
            return
        project = canonicalize_name(builds[0].project)
        self.record.offered(project, {build.version: build for build in builds})

    async def open(self, _app: web.Application) -> None:
        await self._client.__aenter__()

    def _file_session(self) -> aiohttp.ClientSession:
        """The session relaying files, opened with the first one relayed (a proxy of local
        folders needs no TLS context)."""
        if self._files is None:
            self._files = open_session(
                self.config.client.network,
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.config.client.connect_timeout,
                    sock_read=self.config.client.timeout,
                ),
                headers={"User-Agent": self.config.client.user_agent},
            )
        return self._files

    async def close(self, _app: web.Application) -> None:
        await self._client.__aexit__(None, None, None)
        if self._files is not None:
            await self._files.close()

    async def resolved(self, profile_name: str, project: str) -> Resolved:
        """The project's resolved page for a profile, from cache or freshly built (coalesced)."""
        key = (profile_name, project)
        now = time.monotonic()
        entry = self._resolved.get(key)
        if entry is not None and entry.expires > now:
            return entry
        failed = self._failed.get(key)
        if failed is not None and failed[0] > now:
            raise failed[1]
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._resolve(profile_name, project))
            self._inflight[key] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(pending)

    async def root(self, as_json: bool) -> tuple[bytes, str]:
        """The `/simple/` page (the upstreams' project names and the families' projects) and
        its ETag, cached like pages."""
        if self._root is None or self._root[0] <= time.monotonic():
            try:
                names = await all_projects(self._client, self.config.upstreams.urls)
            except UpstreamError as exc:
                self.health.failed(exc.url, exc.reason)
                raise
            for url in self.config.upstreams.urls:
                self.health.succeeded(url)
            families = {p for f in self.config.families for p in f.projects}
            names = sorted(set(names) | families)
            self._root = (time.monotonic() + self.config.page_ttl, names, {})
        _, names, bodies = self._root
        if as_json not in bodies:
            body = json_root_page(names) if as_json else html_root_page(names)
            bodies[as_json] = (body, page_etag(body))
        return bodies[as_json]

    async def _resolve(self, profile_name: str, project: str) -> Resolved:
        try:
            resolved, chosen, choices = await self._resolved_page(
                self._targets[profile_name], project
            )
        except UpstreamError as exc:
            _remember(self._failed, (profile_name, project), exc)
            raise
        self._failed.pop((profile_name, project), None)
        credentials = self._client.credentials
        streamed = frozenset(f.filename for f in resolved.files if _is_streamed(f, credentials))
        listed = ProjectPage(
            name=resolved.name,
            url=resolved.url,
            files=tuple(_listed(f, resolved.name, f.filename in streamed) for f in resolved.files),
            versions=resolved.versions,
        )
        entry = Resolved(
            by_filename=MappingProxyType({f.filename: f for f in resolved.files}),
            streamed=streamed,
            listed=listed,
            expires=time.monotonic() + self.config.page_ttl,
            chosen=MappingProxyType(chosen),
            choices=choices,
        )
        LOG.debug(
            "resolved %s for profile %r: %d files, %d streamed; %s",
            project,
            profile_name,
            len(resolved.files),
            len(streamed),
            "; ".join(str(build) for build in chosen.values()) or "no variant builds",
        )
        self._forget((profile_name, project))
        size = len(entry.by_filename)
        if size > MAX_CACHED_FILES:
            return entry  # served, not kept
        while len(self._resolved) >= MAX_CACHED_PAGES or (
            self._cached_files + size > MAX_CACHED_FILES
        ):
            self._forget(next(iter(self._resolved)))  # the oldest
        self._resolved[(profile_name, project)] = entry
        self._cached_files += size
        return entry

    def _forget(self, key: tuple[str, str]) -> None:
        entry = self._resolved.pop(key, None)
        if entry is not None:
            self._cached_files -= len(entry.by_filename)

    async def _resolved_page(
        self, target: Target, project: str
    ) -> tuple[ProjectPage, dict[str, ChosenBuild], tuple[ReleaseChoice, ...]]:
        """The project's page for one target (from its index family, else the upstreams), the
        variant build each served filename stands for, and every release's choice."""
        family = family_for(self.config.families, project)
        if family is None:
            page = await self._upstream_page(project)
            try:
                documents = await self._client.variants_documents(page)
            except FitwheelError as exc:  # a variants.json that cannot be read or is malformed
                self.health.failed(page.url, str(exc))
                raise
            resolution = resolve(page, target, documents)
            chosen_variants = {
                filename: ChosenBuild(page.name, c.version, c.label or "", summary(c))
                for filename, c in resolution.chosen_variants().items()
            }
            return resolution.page, chosen_variants, resolution.choices
        try:
            builds, anchor = await fetch_with_anchor(self._client, family, project)
        except ProjectNotFound:
            self.health.succeeded(family.url)
            raise
        except FitwheelError as exc:
            self.health.failed(family.url, str(exc))
            raise UpstreamError(family.url, str(exc)) from None
        self.health.succeeded(family.url)
        if anchor is not None:
            builds = follow_anchor(builds, anchor, target)
        choices = choose_in_family(builds, target)
        chosen = {
            c.chosen.filename: ChosenBuild(builds.page.name, c.version, c.label, summary(c))
            for c in choices
            if c.chosen is not None and c.label is not None
        }
        return resolve_in_family(builds, target), chosen, choices

    async def _upstream_page(self, project: str) -> ProjectPage:
        """The first upstream's page for `project` (links filtered), noting who answered."""
        try:
            page = await self.config.upstreams.project_page(self._client, project)
        except ProjectNotFound:
            for url in self.config.upstreams.urls:
                self.health.succeeded(url)  # every one answered: none has it
            raise
        except UpstreamError as exc:
            for url in self.config.upstreams.urls:  # the ones before it said "not here"
                if redact(url) == exc.url:
                    break
                self.health.succeeded(url)
            self.health.failed(exc.url, exc.reason)
            raise
        self.health.succeeded(page.url)
        return self.links.filter(page)

    async def relay_file(
        self, request: web.Request, file: IndexFile, url: str, *, immutable: bool
    ) -> web.StreamResponse:
        """Stream the upstream's bytes; `immutable` only under a URL that names them (sha256)."""
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable"
            if immutable
            else "public, no-cache"
        }
        expected = _expected_sha256(file, url) if immutable else None
        if expected is not None:
            # Checked against this sha256 when kept; the caller checked it is this profile's.
            hit = from_cache(request, self._small_files, expected, headers)
            if hit is not None:
                return hit
        why = self.links.refusal(url)
        if why is not None:  # the upstreams' pages are filtered already; this holds for all
            raise UpstreamError(redact(url), f"not fetched: {why}")
        if is_local(url):
            path = local_path(url)
            if not path.is_file():
                raise UpstreamError(url, "no such file", status=404)
            local = web.FileResponse(path, headers=headers)
            local.content_type = "application/octet-stream"
            self.health.succeeded(url)
            return local
        url = self._client.credentials.learn(url)
        failed = self._failed_files.get(url)
        if failed is not None and failed[0] > time.monotonic():
            raise failed[1]
        login = self._client.credentials.headers(url)
        try:
            response = await relay(
                request,
                self._file_session(),
                url,
                refusal=self.links.refusal,
                answer_timeout=self.config.answer_timeout,
                headers=headers,
                upstream_headers=login,
                network=self.config.client.network,
                cache=self._small_files,
                sha256=expected,
            )
        except UpstreamError as exc:
            if exc.status != 404:
                self.health.failed(url, exc.reason)
                _remember(self._failed_files, url, exc)
            raise
        self.health.succeeded(url)
        return response


def _remember(failures: dict[_K, tuple[float, _E]], key: _K, error: _E) -> None:
    """Keep `error` as the answer for `key` for FAILURE_TTL seconds (the oldest go first)."""
    failures.pop(key, None)
    if len(failures) >= MAX_CACHED_PAGES:
        del failures[next(iter(failures))]
    failures[key] = (time.monotonic() + FAILURE_TTL, error)


def _expected_sha256(file: IndexFile, url: str) -> str | None:
    """The sha256 the page published for the bytes at `url` (the file or its sidecar)."""
    if url == file.url:
        return file.hashes.get("sha256")
    metadata = file.core_metadata
    return metadata.get("sha256") if isinstance(metadata, Mapping) else None


def _is_streamed(file: IndexFile, credentials: Credentials) -> bool:
    """Renamed variant wheels, local files and files on an upstream that needs credentials (only
    the proxy knows them) go through `/files/`; the rest keep their URL."""
    parts = urlsplit(file.url)
    basename = unquote(PurePosixPath(parts.path).name)
    return (
        basename != file.filename
        or is_local(file.url)
        or "@" in parts.netloc
        or credentials.for_url(file.url) is not None
    )


def _listed(file: IndexFile, project: str, streamed: bool) -> IndexFile:
    """The file as the page lists it. A streamed file's URL carries its sha256: one label-less
    name stands for different builds under different profiles (and after an upload), and
    installers cache by URL, so a URL must never name two contents."""
    if not streamed:
        return file
    digest = file.hashes.get("sha256")
    where = f"{project}/{digest}" if digest else project
    return replace(file, url=f"../../files/{where}/{quote(file.filename)}")
