"""Relaying one upstream file to a client, chunk by chunk, bytes unchanged.

Nothing is buffered beyond one chunk: the client's write buffer applies back-pressure to the
upstream read. A download that breaks upstream is aborted downstream (the client sees a short
body against the forwarded `Content-Length`), so a truncated file can never look complete;
a file that is short or corrupt *at the upstream* is relayed as is and fails the client's
hash check against the sha256 the upstream page published.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from aiohttp import web

from fitwheel.errors import UpstreamError

CHUNK_SIZE = 256 * 1024

# Request headers worth forwarding: ranges let uv read a wheel's METADATA without downloading it.
_FORWARDED_REQUEST = ("Range", "If-Range")
_FORWARDED_RESPONSE = (
    "Content-Type",
    "Content-Length",
    "Content-Range",
    "Content-Encoding",
    "Accept-Ranges",
    "ETag",
    "Last-Modified",
)
_RELAYED_STATUSES = frozenset({200, 206, 416})


async def relay(
    request: web.Request,
    session: aiohttp.ClientSession,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    upstream_headers: Mapping[str, str] | None = None,
) -> web.StreamResponse:
    """Stream `url` to the client of `request`; raise `UpstreamError` before any byte is sent.
    `headers` are added to the response, `upstream_headers` (credentials) to the request, which
    aiohttp drops on a redirect to another origin."""
    sent = {h: request.headers[h] for h in _FORWARDED_REQUEST if h in request.headers}
    sent.update(upstream_headers or {})
    try:
        upstream = await session.get(url, headers=sent, allow_redirects=True)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise UpstreamError(url, _describe(exc)) from None
    async with upstream:
        if upstream.status == 404:
            raise UpstreamError(url, "not found (404)", status=404)
        if upstream.status not in _RELAYED_STATUSES:
            raise UpstreamError(url, f"answered HTTP {upstream.status} {upstream.reason or ''}")
        response = web.StreamResponse(status=upstream.status)
        for name in _FORWARDED_RESPONSE:
            if name in upstream.headers:
                response.headers[name] = upstream.headers[name]
        response.headers.update(headers or {})
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        chunks = upstream.content.iter_chunked(CHUNK_SIZE)
        while True:
            try:
                chunk = await anext(chunks, b"")
            except (TimeoutError, aiohttp.ClientError):
                # Headers are gone already: the only honest signal left is a broken connection.
                if request.transport is not None:
                    request.transport.abort()
                return response
            if not chunk:
                break
            try:
                await response.write(chunk)
            except ConnectionResetError:
                return response  # the client went away: nothing left to tell it
        await response.write_eof()
        return response


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    return str(exc) or type(exc).__name__
