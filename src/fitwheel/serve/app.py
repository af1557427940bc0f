"""The resolving index as an aiohttp application: its routes and the responses they give.

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

import logging

from aiohttp import web
from packaging.utils import canonicalize_name

from fitwheel.errors import FitwheelError, ProjectNotFound, UpstreamError
from fitwheel.index.filenames import is_normalized_name
from fitwheel.index.json_api import HTML_CONTENT_TYPE, JSON_CONTENT_TYPE
from fitwheel.serve.negotiation import OFFERED, negotiate
from fitwheel.serve.proxy import DEFAULT_PROFILE, Proxy, ServeConfig

METADATA_SUFFIX = ".metadata"
LOG = logging.getLogger("fitwheel.serve")

__all__ = ["DEFAULT_PROFILE", "PROXY_KEY", "ServeConfig", "make_app"]


def _error(status: int, message: str) -> web.Response:
    # Installers show the reason phrase (uv: "502 <reason>"; pip with -vv), not the body.
    reason = " ".join(message.split())[:300].encode("latin-1", "replace").decode("latin-1")
    return web.Response(status=status, reason=reason, text=f"fitwheel serve: {message}\n")


def _failure(exc: FitwheelError) -> web.Response:
    """A project that no upstream has is a 404; an upstream failure keeps its status; any
    other error (a malformed page or variants.json) is the upstream's fault: 502."""
    if isinstance(exc, ProjectNotFound):
        return _error(404, str(exc))
    status = exc.status if isinstance(exc, UpstreamError) else 502
    if status >= 500:
        LOG.warning("%d: %s", status, exc)
    return _error(status, str(exc))


def _page(request: web.Request, body: bytes, etag: str, content_type: str) -> web.Response:
    # Cacheable, but revalidated on every use (`no-cache`): what a page lists depends on the
    # profile this port serves, which can change between two runs on the same URL. The ETag
    # (a hash of the body) makes the check a cheap 304 while nothing changed.
    headers = {"ETag": etag, "Cache-Control": "public, no-cache", "Vary": "Accept"}
    if etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body,
        headers=headers,
        content_type=content_type,
        charset="utf-8" if content_type == "text/html" else None,
    )


def make_app(config: ServeConfig) -> web.Application:  # noqa: C901
    """The aiohttp application for `config` (its client sessions open on startup)."""
    proxy = Proxy(config)
    app = web.Application()
    app[PROXY_KEY] = proxy
    app.on_startup.append(proxy.open)
    app.on_cleanup.append(proxy.close)

    def profile_of(request: web.Request) -> str:
        name = request.match_info.get("profile", DEFAULT_PROFILE)
        if name not in config.profiles:
            if name == DEFAULT_PROFILE:
                message = f"this server serves named profiles only: {_served(config)}"
                raise web.HTTPNotFound(reason=message, text=f"fitwheel serve: {message}\n")
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
            return _error(406, f"offered: {', '.join(OFFERED)}")
        try:
            body, etag = await proxy.root(content_type == JSON_CONTENT_TYPE)
        except UpstreamError as exc:
            proxy.failures.append(str(exc))
            return _failure(exc)
        return _page(request, body, etag, content_type)

    async def project_page(request: web.Request) -> web.StreamResponse:
        profile = profile_of(request)
        raw = request.match_info["project"]
        project = canonicalize_name(raw)
        if not is_normalized_name(project):
            return _error(404, f"{raw!r} is not a valid project name")
        if raw != project or not request.path.endswith("/"):
            target = request.path.rsplit("/" + raw, 1)[0] + f"/{project}/"
            raise web.HTTPMovedPermanently(target)
        content_type = negotiate(request.headers.get("Accept", ""))
        if content_type is None:
            return _error(406, f"offered: {', '.join(OFFERED)}")
        try:
            entry = await proxy.resolved(profile, project)
        except FitwheelError as exc:
            return _failure(exc)
        proxy.offer(entry)
        body, etag = entry.body(
            JSON_CONTENT_TYPE if content_type == JSON_CONTENT_TYPE else HTML_CONTENT_TYPE
        )
        return _page(request, body, etag, content_type)

    async def file(request: web.Request) -> web.StreamResponse:
        profile = profile_of(request)
        project = canonicalize_name(request.match_info["project"])
        if not is_normalized_name(project):
            return _error(404, f"{request.match_info['project']!r} is not a valid project name")
        filename = request.match_info["filename"]
        digest = request.match_info.get("sha256")
        wanted = filename.removesuffix(METADATA_SUFFIX)
        try:
            entry = await proxy.resolved(profile, project)
            listed = entry.by_filename.get(wanted)
            if listed is None or wanted not in entry.streamed:
                return _error(404, f"{project} has no file {wanted!r} served here")
            if digest is not None and listed.hashes.get("sha256") != digest:
                # The URL names other bytes than this profile gets now (another profile's
                # build, or an upload that replaced it): never hand those out under it.
                return _error(404, f"{wanted} with sha256 {digest} is no longer served here")
            build = entry.chosen.get(wanted)
            if build is not None:
                proxy.handed_out[build.project] = build
            url = listed.url
            if filename != wanted:
                if listed.metadata_url is None:
                    return _error(404, f"{wanted} has no metadata sidecar upstream")
                url = listed.metadata_url
            return await proxy.relay_file(request, listed, url, immutable=digest is not None)
        except FitwheelError as exc:
            return _failure(exc)

    for prefix in ("", "/p/{profile}"):
        app.router.add_get(prefix + "/simple/", simple_root)
        app.router.add_get(prefix + "/simple/{project}", project_page)
        app.router.add_get(prefix + "/simple/{project}/", project_page)
        app.router.add_get(prefix + "/files/{project}/{filename}", file)
        app.router.add_get(prefix + "/files/{project}/{sha256:[0-9a-f]{64}}/{filename}", file)
    app.router.add_get("/", root)
    return app


def _served(config: ServeConfig) -> str:
    return ", ".join(
        "/simple/" if name == DEFAULT_PROFILE else f"/p/{name}/simple/" for name in config.profiles
    )


PROXY_KEY = web.AppKey("proxy", Proxy)
