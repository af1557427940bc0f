"""Relaying one upstream file to a client, chunk by chunk, bytes unchanged.

Nothing is buffered beyond one chunk: the client's write buffer applies back-pressure to the
upstream read. A download that breaks upstream is aborted downstream (the client sees a short
body against the forwarded `Content-Length`), so a truncated file can never look complete;
a file that is short or corrupt *at the upstream* is relayed as is and fails the client's
hash check against the sha256 the upstream page published.

Redirects are followed here, a few at most, each target checked by the caller's rule (the
proxy's link policy) before it is fetched; credentials go only to the first URL's origin. An
upstream that does not start answering within `answer_timeout` seconds is a 504, at once: the
client's own timeout is far longer, and its retries would only wait again.

A small file whose sha256 the caller knows is read whole instead, checked, and kept in the
caller's `FileCache`: the next request for it is answered from memory (no upstream request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from urllib.parse import urljoin

import aiohttp
from aiohttp import web

from fitwheel.errors import UpstreamError
from fitwheel.index.credentials import origin
from fitwheel.index.network import NetworkOptions, describe
from fitwheel.serve.filecache import CachedFile, FileCache

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
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5

Refusal = Callable[[str], str | None]
"""Why a URL must not be fetched (None: it may)."""


async def _answer(
    session: aiohttp.ClientSession,
    url: str,
    sent: Mapping[str, str],
    credentials: Mapping[str, str],
    refusal: Refusal,
    network: NetworkOptions,
) -> aiohttp.ClientResponse:
    """The first answer that is not a redirect, following allowed redirects from `url`."""
    first = origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        extra = credentials if first is not None and origin(url) == first else {}
        upstream = await session.get(
            url,
            headers={**sent, **extra},
            allow_redirects=False,
            **network.request_options(url),
        )
        if upstream.status not in _REDIRECTS or "Location" not in upstream.headers:
            return upstream
        target = urljoin(url, upstream.headers["Location"])
        upstream.release()
        why = refusal(target)
        if why is not None:
            raise UpstreamError(url, f"redirects to {target}: {why}")
        url = target
    raise UpstreamError(url, f"more than {MAX_REDIRECTS} redirects")


async def relay(
    request: web.Request,
    session: aiohttp.ClientSession,
    url: str,
    *,
    refusal: Refusal,
    answer_timeout: float,
    headers: Mapping[str, str] | None = None,
    upstream_headers: Mapping[str, str] | None = None,
    network: NetworkOptions | None = None,
    cache: FileCache | None = None,
    sha256: str | None = None,
) -> web.StreamResponse:
    """Stream `url` to the client of `request`; raise `UpstreamError` before any byte is sent.
    `headers` are added to the response, `upstream_headers` (credentials) to the requests to
    `url`'s origin; `network` says how to reach it (default: as the environment says). With a
    `cache` and the body's `sha256`, a small file goes into the cache."""
    network = network or NetworkOptions.from_environment()
    sent = {h: request.headers[h] for h in _FORWARDED_REQUEST if h in request.headers}
    if "Range" in sent or request.method == "HEAD":
        cache = None
    try:
        async with asyncio.timeout(answer_timeout):
            upstream = await _answer(session, url, sent, upstream_headers or {}, refusal, network)
    except TimeoutError:
        raise UpstreamError(url, f"no answer within {answer_timeout:g} s", status=504) from None
    except aiohttp.ClientError as exc:
        failure = describe(exc, network, url)
        reason = failure.reason + (f"; {failure.hint}" if failure.hint else "")
        raise UpstreamError(url, reason) from None
    async with upstream:
        if upstream.status == 404:
            raise UpstreamError(url, "not found (404)", status=404)
        if upstream.status not in _RELAYED_STATUSES:
            raise UpstreamError(url, f"answered HTTP {upstream.status} {upstream.reason or ''}")
        length = upstream.content_length
        if (
            cache is not None
            and sha256 is not None
            and upstream.status == 200
            and length is not None
            and length <= cache.max_file_bytes
        ):
            return await _read_whole(url, upstream, cache, sha256, headers, network)
        response = web.StreamResponse(status=upstream.status)
        for name in _FORWARDED_RESPONSE:
            if name in upstream.headers:
                response.headers[name] = upstream.headers[name]
        response.headers.update(headers or {})
        await response.prepare(request)
        if request.method != "HEAD":
            await _copy_body(request, upstream, response)
        return response


async def _read_whole(
    url: str,
    upstream: aiohttp.ClientResponse,
    cache: FileCache,
    sha256: str,
    headers: Mapping[str, str] | None,
    network: NetworkOptions,
) -> web.Response:
    """A small body read before answering (a break upstream is then a 502, not a short body),
    kept when it is the bytes `sha256` names; other bytes are relayed as they are, for the
    client's own hash check to reject."""
    try:
        body = await upstream.read()
    except (TimeoutError, aiohttp.ClientError) as exc:
        failure = describe(exc, network, url)
        reason = failure.reason + (f"; {failure.hint}" if failure.hint else "")
        raise UpstreamError(url, reason) from None
    kept = {n: upstream.headers[n] for n in _FORWARDED_RESPONSE if n in upstream.headers}
    kept.pop("Content-Length", None)
    cache.put(sha256, body, kept)
    return _from_memory(CachedFile(body, kept), headers)


def from_cache(
    request: web.Request, cache: FileCache, sha256: str, headers: Mapping[str, str]
) -> web.Response | None:
    """The kept file whose bytes `sha256` names, if there is one and the request wants all of
    it (a range request goes upstream)."""
    if "Range" in request.headers:
        return None
    cached = cache.get(sha256)
    return None if cached is None else _from_memory(cached, headers)


def _from_memory(cached: CachedFile, headers: Mapping[str, str] | None) -> web.Response:
    return web.Response(body=cached.body, headers={**cached.headers, **(headers or {})})


async def _copy_body(
    request: web.Request, upstream: aiohttp.ClientResponse, response: web.StreamResponse
) -> None:
    """The upstream body to the client, chunk by chunk; a break upstream breaks downstream."""
    chunks = upstream.content.iter_chunked(CHUNK_SIZE)
    while True:
        try:
            chunk = await anext(chunks, b"")
        except (TimeoutError, aiohttp.ClientError):
            # Headers are gone already: the only honest signal left is a broken connection.
            if request.transport is not None:
                request.transport.abort()
            return
        if not chunk:
            break
        try:
            await response.write(chunk)
        except ConnectionResetError:
            return  # the client went away: nothing left to tell it
    await response.write_eof()
