"""The resolving index as an aiohttp application: its routes and the responses they give.

Routes (each also under `/p/{profile}/` for a fleet of named profiles, except `/`):

- `/`: the status page (see `status`): version, profiles, upstreams' health; `/?project=NAME`
  adds the build each profile gets of NAME's newest releases.
- `/explain/{project}`: every release's choice for the profile and why the other files lost.

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
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web
from packaging.utils import canonicalize_name

from fitwheel.errors import FitwheelError, ProjectNotFound, UpstreamError
from fitwheel.index.filenames import is_normalized_name
from fitwheel.index.json_api import HTML_CONTENT_TYPE, JSON_CONTENT_TYPE
from fitwheel.select import ReleaseChoice
from fitwheel.serve.access import BUILD_KEY
from fitwheel.serve.identity import add_identity_routes
from fitwheel.serve.idle import ACTIVITY_KEY, Activity
from fitwheel.serve.logs import upstream_failed
from fitwheel.serve.negotiation import OFFERED, negotiate
from fitwheel.serve.proxy import DEFAULT_PROFILE, Proxy, ServeConfig, page_etag
from fitwheel.serve.record import Record
from fitwheel.serve.status import (
    MAX_PROJECT_CHARS,
    SECURITY_HEADERS,
    STATUS_CONTENT_TYPES,
    explain_document,
    explain_html,
    search_row,
    status_document,
    status_html,
)

METADATA_SUFFIX = ".metadata"

__all__ = ["DEFAULT_PROFILE", "PROXY_KEY", "ServeConfig", "make_app"]


def _error(status: int, message: str) -> web.Response:
    # Installers show the reason phrase (uv: "502 <reason>"; pip with -vv), not the body.
    reason = " ".join(message.split())[:300].encode("latin-1", "replace").decode("latin-1")
    return web.Response(status=status, reason=reason, text=f"fitwheel serve: {message}\n")


def _failure(exc: FitwheelError, record: Record) -> web.Response:
    """A project that no upstream has is a 404; an upstream failure keeps its status; any
    other error (a malformed page or variants.json) is the upstream's fault: 502. Upstream
    failures other than a missing file are recorded for the wrappers' summary line."""
    if isinstance(exc, ProjectNotFound):
        return _error(404, str(exc))
    if isinstance(exc, UpstreamError) and exc.status != 404:
        record.failed(str(exc))
    status = exc.status if isinstance(exc, UpstreamError) else 502
    if status >= 500:
        upstream_failed(exc, status)
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
    activity = Activity()
    app[ACTIVITY_KEY] = activity
    app.middlewares.append(activity.middleware)
    if config.identity is not None:
        add_identity_routes(app, config.identity, proxy.record, activity)
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

    async def simple_root(request: web.Request) -> web.StreamResponse:
        profile_of(request)
        content_type = negotiate(request.headers.get("Accept", ""))
        if content_type is None:
            return _error(406, f"offered: {', '.join(OFFERED)}")
        try:
            body, etag = await proxy.root(content_type == JSON_CONTENT_TYPE)
        except UpstreamError as exc:
            return _failure(exc, proxy.record)
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
            return _failure(exc, proxy.record)
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
                proxy.record.handed_out(build)
                request[BUILD_KEY] = build.label
            url = listed.url
            if filename != wanted:
                if listed.metadata_url is None:
                    return _error(404, f"{wanted} has no metadata sidecar upstream")
                url = listed.metadata_url
            return await proxy.relay_file(request, listed, url, immutable=digest is not None)
        except FitwheelError as exc:
            return _failure(exc, proxy.record)

    for prefix in ("", "/p/{profile}"):
        app.router.add_get(prefix + "/simple/", simple_root)
        app.router.add_get(prefix + "/simple/{project}", project_page)
        app.router.add_get(prefix + "/simple/{project}/", project_page)
        app.router.add_get(prefix + "/files/{project}/{filename}", file)
        app.router.add_get(prefix + "/files/{project}/{sha256:[0-9a-f]{64}}/{filename}", file)
    _add_status_routes(app, proxy, profile_of)
    return app


def _status_page(request: web.Request, json_body: bytes, html: bytes) -> web.Response:
    """A status or explain view as the client prefers it (HTML unless JSON is), with the
    pages' cache discipline and a policy that lets nothing but the page itself run."""
    as_json = negotiate(request.headers.get("Accept", ""), STATUS_CONTENT_TYPES) == (
        "application/json"
    )
    body, content_type = (json_body, "application/json") if as_json else (html, "text/html")
    response = _page(request, body, page_etag(body), content_type)
    response.headers.update(SECURITY_HEADERS)
    return response


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=1).encode() + b"\n"


def _project_name(raw: str) -> str | None:
    """The normalized project name of a query, or None when it cannot be one."""
    if len(raw) > MAX_PROJECT_CHARS:
        return None
    project = canonicalize_name(raw.strip())
    return project if is_normalized_name(project) else None


def _add_status_routes(
    app: web.Application, proxy: Proxy, profile_of: Callable[[web.Request], str]
) -> None:
    config = proxy.config
    plain: dict[int, tuple[bytes, bytes]] = {}  # health.changes -> the page without a search

    async def status(request: web.Request) -> web.StreamResponse:
        raw = request.query.get("project")
        if raw is None:
            changes = proxy.health.changes
            if changes not in plain:
                document = status_document(config.profiles, proxy.health.states())
                plain.clear()
                plain[changes] = (_json(document), status_html(document))
            return _status_page(request, *plain[changes])
        project = _project_name(raw)
        if project is None:
            document = status_document(config.profiles, proxy.health.states())
            shown = raw if len(raw) <= MAX_PROJECT_CHARS else raw[:MAX_PROJECT_CHARS] + "…"
            error = f"{shown!r} is not a valid project name"
            document["search"] = {"project": shown, "error": error, "profiles": []}
            response = _status_page(request, _json(document), status_html(document))
            response.set_status(400)
            return response
        outcomes = await asyncio.gather(*(_choices(proxy, p, project) for p in config.profiles))
        rows = [search_row(p, project, o) for p, o in zip(config.profiles, outcomes, strict=True)]
        document = status_document(config.profiles, proxy.health.states())  # as they left it
        document["search"] = {"project": project, "error": None, "profiles": rows}
        return _status_page(request, _json(document), status_html(document))

    async def explain(request: web.Request) -> web.StreamResponse:
        profile = profile_of(request)
        raw = request.match_info["project"]
        project = _project_name(raw)
        if project is None:
            return _error(404, f"{raw[:MAX_PROJECT_CHARS]!r} is not a valid project name")
        try:
            entry = await proxy.resolved(profile, project)
        except FitwheelError as exc:
            return _failure(exc, proxy.record)
        if EXPLAIN_KEY not in entry.bodies:  # rendered once per resolved page, as pages are
            document = explain_document(profile, project, entry.choices)
            for key, body in (
                (EXPLAIN_KEY, _json(document)),
                (EXPLAIN_HTML_KEY, explain_html(document)),
            ):
                entry.bodies[key] = (body, page_etag(body))
        return _status_page(
            request, entry.bodies[EXPLAIN_KEY][0], entry.bodies[EXPLAIN_HTML_KEY][0]
        )

    app.router.add_get("/", status)
    for prefix in ("", "/p/{profile}"):
        app.router.add_get(prefix + "/explain/{project}", explain)


async def _choices(proxy: Proxy, profile: str, project: str) -> tuple[ReleaseChoice, ...] | str:
    """The profile's choices for the project, or the error that stood in the way (one line)."""
    try:
        return (await proxy.resolved(profile, project)).choices
    except FitwheelError as exc:
        return str(exc)


EXPLAIN_KEY, EXPLAIN_HTML_KEY = "explain json", "explain html"
"""The keys of the explain view's bodies in a resolved page's cache."""


def _served(config: ServeConfig) -> str:
    return ", ".join(
        "/simple/" if name == DEFAULT_PROFILE else f"/p/{name}/simple/" for name in config.profiles
    )


PROXY_KEY = web.AppKey("proxy", Proxy)
