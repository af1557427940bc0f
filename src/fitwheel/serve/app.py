"""The resolving index as an aiohttp application: routes, negotiation, caching headers.

Routes (each also under `/p/{profile}/` for a fleet of named profiles):

- `/simple/`: the projects every upstream lists (see `roots`).
- `/simple/{project}/`: the first upstream's page for the project (see `upstreams`), resolved
  for the profile by `fitwheel.select.resolve_page`, as PEP 691 JSON or PEP 503 HTML.
- `/files/{project}/{filename}`: the chosen variant wheel (and its PEP 658 sidecar) under its
  label-less name, streamed from the upstream bytes unchanged. Files with an `http(s)` URL that
  are not variant wheels keep their upstream URL and never pass through the proxy; files of a
  local-folder upstream are streamed too.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from urllib.parse import quote, unquote, urlsplit

import aiohttp
from aiohttp import web
from packaging.utils import canonicalize_name

from fitwheel.errors import FitwheelError, ProjectNotFound, UpstreamError
from fitwheel.index.client import ClientSettings, IndexClient, ResponseCache
from fitwheel.index.json_api import HTML_CONTENT_TYPE, JSON_CONTENT_TYPE
from fitwheel.index.local import is_local, local_path
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.index.pages import (
    html_project_page,
    html_root_page,
    json_project_page,
    json_root_page,
)
from fitwheel.profile import Profile
from fitwheel.select import resolve_page
from fitwheel.select.tags import marker_environment, profile_tags
from fitwheel.serve.roots import all_projects
from fitwheel.serve.streaming import relay
from fitwheel.serve.upstreams import Upstreams

METADATA_SUFFIX = ".metadata"
DEFAULT_PROFILE = ""
"""The key of the profile served at `/simple/` (fleet profiles are served at `/p/NAME/`)."""


MAX_CACHED_PAGES = 4096
"""Resolved pages kept (per profile and project); the oldest is dropped beyond this."""


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@dataclass(frozen=True)
class ServeConfig:
    """What one server proxies, and for which profiles."""

    upstreams: Upstreams
    profiles: Mapping[str, Profile]
    """`DEFAULT_PROFILE` -> the profile at `/simple/`; other names -> `/p/NAME/simple/`."""
    page_ttl: float = 60.0
    """Seconds a resolved page is served without asking the upstream again."""
    client: ClientSettings = field(default_factory=lambda: ClientSettings(retries=1))


@dataclass(frozen=True)
class _Resolved:
    page: ProjectPage
    by_filename: Mapping[str, IndexFile]
    streamed: frozenset[str]
    listed: ProjectPage
    """The page as served: streamed files point at `/files/`."""
    expires: float
    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """Explicit cache: content type -> (rendered body, its ETag), rendered on first request."""

    def body(self, content_type: str) -> tuple[bytes, str]:
        if content_type not in self.bodies:
            render = json_project_page if content_type == JSON_CONTENT_TYPE else html_project_page
            body = render(self.listed)
            self.bodies[content_type] = (body, _etag(body))
        return self.bodies[content_type]


class Proxy:
    """The application's state: the index client, the file session and explicit caches."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.failures: list[str] = []
        """Upstream failures seen (most recent last), for a wrapper's summary line."""
        self._client = IndexClient(config.client, cache=ResponseCache())
        self._files: aiohttp.ClientSession | None = None
        self._resolved: dict[tuple[str, str], _Resolved] = {}
        # Computed once per profile (they cost milliseconds per page otherwise); the marker
        # environment is built here too so its imports happen at start, not on a request.
        self._tags = {name: profile_tags(p) for name, p in config.profiles.items()}
        for profile in config.profiles.values():
            marker_environment(profile)
        self._root: tuple[float, list[str], dict[bool, tuple[bytes, str]]] | None = None
        self._inflight: dict[tuple[str, str], asyncio.Future[_Resolved]] = {}

    async def open(self, _app: web.Application) -> None:
        await self._client.__aenter__()
        self._files = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=self.config.client.connect_timeout,
                sock_read=self.config.client.timeout,
            ),
            headers={"User-Agent": self.config.client.user_agent},
        )

    async def close(self, _app: web.Application) -> None:
        await self._client.__aexit__(None, None, None)
        if self._files is not None:
            await self._files.close()

    async def resolved(self, profile_name: str, project: str) -> _Resolved:
        """The project's resolved page for a profile, from cache or freshly built (coalesced)."""
        key = (profile_name, project)
        entry = self._resolved.get(key)
        if entry is not None and entry.expires > time.monotonic():
            return entry
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._resolve(profile_name, project))
            self._inflight[key] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(pending)

    async def root(self, as_json: bool) -> tuple[bytes, str]:
        """The `/simple/` page (the upstreams' project names) and its ETag, cached like pages."""
        if self._root is None or self._root[0] <= time.monotonic():
            names = await all_projects(self._client, self.config.upstreams.urls)
            self._root = (time.monotonic() + self.config.page_ttl, names, {})
        _, names, bodies = self._root
        if as_json not in bodies:
            body = json_root_page(names) if as_json else html_root_page(names)
            bodies[as_json] = (body, _etag(body))
        return bodies[as_json]

    async def _resolve(self, profile_name: str, project: str) -> _Resolved:
        profile = self.config.profiles[profile_name]
        try:
            page = await self.config.upstreams.project_page(self._client, project)
            documents = await self._client.variants_documents(page)
        except UpstreamError as exc:
            self.failures.append(str(exc))
            raise
        resolved = resolve_page(page, profile, documents, tags=self._tags[profile_name])
        streamed = frozenset(f.filename for f in resolved.files if _is_streamed(f))
        listed = ProjectPage(
            name=resolved.name,
            url=resolved.url,
            files=tuple(_listed(f, resolved.name, f.filename in streamed) for f in resolved.files),
            versions=resolved.versions,
        )
        entry = _Resolved(
            page=resolved,
            by_filename=MappingProxyType({f.filename: f for f in resolved.files}),
            streamed=streamed,
            listed=listed,
            expires=time.monotonic() + self.config.page_ttl,
        )
        self._resolved.pop((profile_name, project), None)
        if len(self._resolved) >= MAX_CACHED_PAGES:
            del self._resolved[next(iter(self._resolved))]  # the oldest
        self._resolved[(profile_name, project)] = entry
        return entry

    async def relay_file(
        self, request: web.Request, file: IndexFile, url: str
    ) -> web.StreamResponse:
        headers = {"Cache-Control": "public, max-age=31536000, immutable"}
        if is_local(url):
            path = local_path(url)
            if not path.is_file():
                raise UpstreamError(url, "no such file", status=404)
            response = web.FileResponse(path, headers=headers)
            response.content_type = "application/octet-stream"
            return response
        assert self._files is not None
        return await relay(request, self._files, url, headers=headers)


def _is_streamed(file: IndexFile) -> bool:
    """Renamed variant wheels and local files go through `/files/`; the rest keep their URL."""
    basename = unquote(PurePosixPath(urlsplit(file.url).path).name)
    return basename != file.filename or is_local(file.url)


def _listed(file: IndexFile, project: str, streamed: bool) -> IndexFile:
    if not streamed:
        return file
    return IndexFile(
        filename=file.filename,
        url=f"../../files/{project}/{quote(file.filename)}",
        hashes=file.hashes,
        requires_python=file.requires_python,
        yanked=file.yanked,
        core_metadata=file.core_metadata,
        size=file.size,
        upload_time=file.upload_time,
    )


_OFFERED = (JSON_CONTENT_TYPE, HTML_CONTENT_TYPE, "text/html")


def negotiate(accept: str) -> str | None:
    """The PEP 691 content type to answer with, or None when nothing acceptable is offered."""
    if not accept.strip():
        return "text/html"
    best: tuple[float, int] = (0.0, 0)
    chosen: str | None = None
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        candidates = _OFFERED if media in ("*/*", "application/*") else (media,)
        for candidate in candidates:
            if candidate in _OFFERED and quality > 0:
                rank = (quality, -_OFFERED.index(candidate))
                if chosen is None or rank > best:
                    best, chosen = rank, candidate
    return chosen


def _error(status: int, message: str) -> web.Response:
    # pip shows the reason phrase ("502 Server Error: <reason> for url: ..."), not the body.
    reason = " ".join(message.split())[:300].encode("latin-1", "replace").decode("latin-1")
    return web.Response(status=status, reason=reason, text=f"fitwheel serve: {message}\n")


def _page(request: web.Request, body: bytes, etag: str, content_type: str) -> web.Response:
    config = request.app[PROXY_KEY].config
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={int(config.page_ttl)}",
        "Vary": "Accept",
    }
    if etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body,
        headers=headers,
        content_type=content_type,
        charset="utf-8" if content_type == "text/html" else None,
    )


def make_app(config: ServeConfig) -> web.Application:
    """The aiohttp application for `config` (its client sessions open on startup)."""
    proxy = Proxy(config)
    app = web.Application()
    app[PROXY_KEY] = proxy
    app.on_startup.append(proxy.open)
    app.on_cleanup.append(proxy.close)

    def profile_of(request: web.Request) -> str:
        name = request.match_info.get("profile", DEFAULT_PROFILE)
        if name not in config.profiles:
            raise web.HTTPNotFound(
                reason=f"no profile {name!r} here",
                text=f"fitwheel serve: no profile {name!r}; served: {_served(config)}\n",
            )
        return name

    async def root(request: web.Request) -> web.StreamResponse:
        return web.Response(text=f"fitwheel serve: indexes at {_served(config)}\n")

    async def simple_root(request: web.Request) -> web.StreamResponse:
        profile_of(request)
        content_type = negotiate(request.headers.get("Accept", ""))
        if content_type is None:
            return _error(406, f"offered: {', '.join(_OFFERED)}")
        try:
            body, etag = await proxy.root(content_type == JSON_CONTENT_TYPE)
        except UpstreamError as exc:
            proxy.failures.append(str(exc))
            return _error(exc.status, str(exc))
        return _page(request, body, etag, content_type)

    async def project_page(request: web.Request) -> web.StreamResponse:
        profile = profile_of(request)
        raw = request.match_info["project"]
        project = canonicalize_name(raw)
        if raw != project or not request.path.endswith("/"):
            target = request.path.rsplit("/" + raw, 1)[0] + f"/{project}/"
            raise web.HTTPMovedPermanently(target)
        content_type = negotiate(request.headers.get("Accept", ""))
        if content_type is None:
            return _error(406, f"offered: {', '.join(_OFFERED)}")
        try:
            entry = await proxy.resolved(profile, project)
        except ProjectNotFound as exc:
            return _error(404, str(exc))
        except UpstreamError as exc:
            return _error(exc.status, str(exc))
        except FitwheelError as exc:
            return _error(502, str(exc))
        body, etag = entry.body(
            JSON_CONTENT_TYPE if content_type == JSON_CONTENT_TYPE else HTML_CONTENT_TYPE
        )
        return _page(request, body, etag, content_type)

    async def file(request: web.Request) -> web.StreamResponse:
        profile = profile_of(request)
        project = canonicalize_name(request.match_info["project"])
        filename = request.match_info["filename"]
        wanted = filename.removesuffix(METADATA_SUFFIX)
        try:
            entry = await proxy.resolved(profile, project)
            listed = entry.by_filename.get(wanted)
            if listed is None or wanted not in entry.streamed:
                return _error(404, f"{project} has no file {wanted!r} served here")
            url = listed.url
            if filename != wanted:
                if listed.metadata_url is None:
                    return _error(404, f"{wanted} has no metadata sidecar upstream")
                url = listed.metadata_url
            return await proxy.relay_file(request, listed, url)
        except ProjectNotFound as exc:
            return _error(404, str(exc))
        except UpstreamError as exc:
            return _error(exc.status, str(exc))
        except FitwheelError as exc:
            return _error(502, str(exc))

    for prefix in ("", "/p/{profile}"):
        app.router.add_get(prefix + "/simple/", simple_root)
        app.router.add_get(prefix + "/simple/{project}", project_page)
        app.router.add_get(prefix + "/simple/{project}/", project_page)
        app.router.add_get(prefix + "/files/{project}/{filename}", file)
    app.router.add_get("/", root)
    return app


def _served(config: ServeConfig) -> str:
    return ", ".join(
        "/simple/" if name == DEFAULT_PROFILE else f"/p/{name}/simple/" for name in config.profiles
    )


PROXY_KEY = web.AppKey("proxy", Proxy)
