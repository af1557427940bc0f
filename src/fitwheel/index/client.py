"""Reading indexes over HTTP(S) and from folders: timeouts, retries, bounded concurrency, caching.

One `aiohttp.ClientSession` per client reuses connections. Requests are retried with
exponential backoff on connection errors, timeouts and 5xx answers; every failure that is
reported names the URL. Responses are kept in a `ResponseCache` that honours `Cache-Control`
(`no-store`, `no-cache`, `max-age`) and revalidates with `ETag` / `Last-Modified`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from fitwheel._version import __version__
from fitwheel.errors import IndexUnavailable, InvalidIndexPage, ProjectNotFound
from fitwheel.index.credentials import Credentials
from fitwheel.index.html import is_links_page, parse_html_page, parse_links_page
from fitwheel.index.json_api import HTML_CONTENT_TYPE, JSON_CONTENT_TYPE, parse_json_page
from fitwheel.index.local import is_local, local_path, read_local_page
from fitwheel.index.model import ProjectPage
from fitwheel.index.network import Failure, NetworkOptions, describe, open_session
from fitwheel.index.variants import release_documents
from fitwheel.variants.metadata import VariantsDocument

if TYPE_CHECKING:
    import aiohttp

# What pip sends: PEP 691 JSON preferred, PEP 503 HTML accepted.
ACCEPT = f"{JSON_CONTENT_TYPE}, {HTML_CONTENT_TYPE};q=0.2, text/html;q=0.01"
_RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class ClientSettings:
    """How patient a client is: per-request timeout (s), retries after the first try, concurrency."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.25
    concurrency: int = 16
    user_agent: str = f"fitwheel/{__version__}"
    max_body: int = 256 << 20
    """Bytes a page or variants.json may have (decompressed): past it the server is lying."""
    network: NetworkOptions = field(default_factory=NetworkOptions.from_environment)
    """Proxies, certificates and keyring use (default: from the environment)."""

    def with_network(self, network: NetworkOptions) -> ClientSettings:
        return replace(self, network=network)

    def with_timeout(self, timeout: float) -> ClientSettings:
        return replace(self, timeout=timeout, connect_timeout=min(self.connect_timeout, timeout))

    def with_retries(self, retries: int) -> ClientSettings:
        return replace(self, retries=retries)


@dataclass(frozen=True)
class Response:
    url: str
    body: bytes
    content_type: str
    charset: str | None = None


@dataclass(frozen=True)
class _Cached:
    response: Response
    etag: str | None
    last_modified: str | None
    fresh_until: float


class ResponseCache:
    """An explicit in-memory HTTP cache (URL + Accept -> response), shareable between clients.

    Bounded: past `max_entries` responses or `max_bytes` of bodies, the least recently used
    go first; a body larger than `max_bytes` is not kept.
    """

    def __init__(self, *, max_entries: int = 1024, max_bytes: int = 64 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = 0
        """Bytes of the bodies held."""
        self._entries: OrderedDict[tuple[str, str], _Cached] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Whether `(url, accept)` is held (without counting as a use)."""
        return key in self._entries

    def get(self, url: str, accept: str) -> _Cached | None:
        entry = self._entries.get((url, accept))
        if entry is not None:
            self._entries.move_to_end((url, accept))
        return entry

    def _drop(self, key: tuple[str, str]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.response.body)

    def store(self, url: str, accept: str, response: Response, headers: Mapping[str, str]) -> None:
        directives = {
            part.strip().split("=", 1)[0].lower(): part.strip().partition("=")[2]
            for part in headers.get("Cache-Control", "").split(",")
            if part.strip()
        }
        key = (url, accept)
        self._drop(key)
        if "no-store" in directives or len(response.body) > self.max_bytes:
            return
        max_age = 0
        if "no-cache" not in directives and directives.get("max-age", "").isdigit():
            max_age = int(directives["max-age"])
        etag, last_modified = headers.get("ETag"), headers.get("Last-Modified")
        if max_age == 0 and etag is None and last_modified is None:
            return
        self._entries[key] = _Cached(response, etag, last_modified, time.monotonic() + max_age)
        self.size += len(response.body)
        while len(self._entries) > self.max_entries or self.size > self.max_bytes:
            self._drop(next(iter(self._entries)))


def _status_line(url: str, reply: aiohttp.ClientResponse, network: NetworkOptions) -> str:
    """An error status in one line; a 400 over HTTPS without a client certificate is what
    nginx answers when it wants one, so that line says how to give it."""
    line = f"{url}: HTTP {reply.status} {reply.reason or ''}".rstrip()
    if reply.status == 400 and url.startswith("https:") and network.client_cert is None:
        line += "; if the host wants a client certificate, pass --client-cert FILE"
    return line


class _Retry(Exception):
    """A failure that may pass: worth another attempt."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class _Unauthorized(Exception):
    """The host answered 401 or 403."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class IndexClient:
    """Reads project pages and variants documents; use as `async with IndexClient() as client`."""

    def __init__(
        self, settings: ClientSettings | None = None, *, cache: ResponseCache | None = None
    ) -> None:
        self.settings = settings or ClientSettings()
        self.cache = cache if cache is not None else ResponseCache()
        self.requests = 0
        """HTTP requests sent (retries and revalidations included)."""
        self.credentials = Credentials(keyring_provider=self.settings.network.keyring_provider)
        """User info from the URLs given, sent to every URL of the same origin."""
        self._session: aiohttp.ClientSession | None = None
        self._entered = False
        self._slots = asyncio.Semaphore(self.settings.concurrency)

    async def __aenter__(self) -> IndexClient:
        self._entered = True
        return self

    def _opened(self) -> aiohttp.ClientSession:
        """The session, opened at the first HTTP request: reading folders needs no TLS
        context (loading a trust store costs tens of milliseconds)."""
        if self._session is None:
            import aiohttp

            self._session = open_session(
                self.settings.network,
                limit=self.settings.concurrency,
                timeout=aiohttp.ClientTimeout(
                    total=self.settings.timeout, connect=self.settings.connect_timeout
                ),
                headers={"User-Agent": self.settings.user_agent},
            )
        return self._session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._entered = False
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def project_page(self, index_url: str, project: str) -> ProjectPage:
        """The project's page from a simple index URL or a local folder."""
        name = canonicalize_name(project)
        if is_local(index_url):
            return await asyncio.to_thread(read_local_page, index_url, name)
        index_url = self.credentials.learn(index_url, index=True)
        if is_links_page(index_url):
            return await self._links_page(index_url, name)
        url = index_url.rstrip("/") + f"/{name}/"
        response = await self.get(url, accept=ACCEPT, missing=ProjectNotFound)
        if response.content_type == JSON_CONTENT_TYPE:
            return parse_json_page(response.body, url=response.url, project=name)
        if response.content_type in (HTML_CONTENT_TYPE, "text/html"):
            try:
                text = response.body.decode(response.charset or "utf-8")
            except (UnicodeDecodeError, LookupError) as exc:
                raise InvalidIndexPage(f"{response.url}: cannot decode the page: {exc}") from None
            return parse_html_page(text, url=response.url, project=name)
        raise InvalidIndexPage(
            f"{response.url}: unexpected content type {response.content_type!r} for a project "
            f"page (expected {JSON_CONTENT_TYPE} or text/html)"
        )

    async def _links_page(self, url: str, project: str) -> ProjectPage:
        """`project`'s files on a flat page of links, as pip's `--find-links URL` reads it."""
        response = await self.get(url, accept="text/html", missing=ProjectNotFound)
        try:
            text = response.body.decode(response.charset or "utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidIndexPage(f"{response.url}: cannot decode the page: {exc}") from None
        page = parse_links_page(text, url=response.url, project=project)
        if not page.files:
            raise ProjectNotFound(f"{response.url}: the page links no file of project {project!r}")
        return page

    async def variants_documents(self, page: ProjectPage) -> Mapping[str, VariantsDocument | str]:
        """Release version -> its merged variants document, or why it has none."""
        return await release_documents(page, self.read)

    async def read(self, url: str) -> bytes:
        """The bytes at `url` (a `file:` URL, a path or an HTTP(S) URL)."""
        if is_local(url):
            path = local_path(url)
            try:
                return await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise IndexUnavailable(f"{url}: cannot read: {exc.strerror}") from None
        return (await self.get(url)).body

    async def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        missing: type[IndexUnavailable] | type[ProjectNotFound] = IndexUnavailable,
    ) -> Response:
        """GET with the cache, retries and backoff; raises errors that name the URL.

        A 401 is answered once more with a login from the keyring, when it has one."""
        if not self._entered:
            raise RuntimeError("IndexClient must be used as an async context manager")
        url = self.credentials.learn(url)
        cached = self.cache.get(url, accept)
        if cached is not None and cached.fresh_until > time.monotonic():
            return cached.response
        while True:
            sent = self.credentials.for_url(url)
            try:
                return await self._get(url, accept, missing, cached)
            except _Unauthorized as refusal:
                found = await asyncio.to_thread(self.credentials.from_keyring, url)
                # Another request of this origin may have found the keyring's login meanwhile.
                if not found and self.credentials.for_url(url) == sent:
                    raise IndexUnavailable(self._login_problem(url, refusal.status)) from None

    async def _get(
        self,
        url: str,
        accept: str,
        missing: type[IndexUnavailable] | type[ProjectNotFound],
        cached: _Cached | None,
    ) -> Response:
        """One GET, tried again on failures that may pass."""
        headers = {"Accept": accept, **self.credentials.headers(url)}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        attempts = self.settings.retries + 1
        failure = Failure("")
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.settings.backoff * 2 ** (attempt - 1))
            try:
                return await self._attempt(url, accept, headers, missing, cached)
            except _Retry as retry:
                failure = retry.failure
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        raise IndexUnavailable(failure.line(url, tries))

    async def _attempt(
        self,
        url: str,
        accept: str,
        headers: Mapping[str, str],
        missing: type[IndexUnavailable] | type[ProjectNotFound],
        cached: _Cached | None,
    ) -> Response:
        import aiohttp

        session = self._opened()
        network = self.settings.network
        try:
            async with self._slots:
                self.requests += 1
                async with session.get(
                    url, headers=headers, **network.request_options(url)
                ) as reply:
                    if reply.status == 304 and cached is not None:
                        self.cache.store(url, accept, cached.response, reply.headers)
                        return cached.response
                    if reply.status in _RETRY_STATUSES:
                        problem = f"HTTP {reply.status} {reply.reason or ''}".rstrip()
                        raise _Retry(Failure(problem))
                    if reply.status in (404, 410):
                        raise missing(f"{url}: not found (HTTP {reply.status})")
                    if reply.status in (401, 403):
                        raise _Unauthorized(reply.status)
                    if reply.status >= 400:
                        raise IndexUnavailable(_status_line(url, reply, network))
                    body = await self._body(reply, url)
                    response = Response(
                        url=str(reply.url),
                        body=body,
                        content_type=reply.content_type,
                        charset=reply.charset,
                    )
                    self.cache.store(url, accept, response, reply.headers)
                    return response
        except TimeoutError:
            problem = f"timed out after {self.settings.timeout:g} s"
            raise _Retry(Failure(problem, "raise --timeout if the index is slow")) from None
        except aiohttp.ClientError as exc:
            failure = describe(exc, network, url)
            if not failure.transient:
                raise IndexUnavailable(failure.line(url)) from None
            raise _Retry(failure) from None

    def _login_problem(self, url: str, status: int) -> str:
        """A 401/403 in the user's words: which login was refused, or that one is needed."""
        what = "HTTP 401 Unauthorized" if status == 401 else "HTTP 403 Forbidden"
        source = self.credentials.source(url)
        host = urlsplit(url).netloc
        if source is None:
            return (
                f"{url}: {what}: {host} wants a login; give it in the index URL "
                "(https://USER@host/...; the password from the keyring, --keyring-provider), "
                "or in your netrc file"
            )
        return (
            f"{url}: {what}: {host} refused the login from {source}; check the user and "
            "password there (keyring: --keyring-provider; netrc: $NETRC)"
        )

    async def _body(self, reply: aiohttp.ClientResponse, url: str) -> bytes:
        """The whole body, unless it grows past `max_body` (an endless or bomb response)."""
        limit = self.settings.max_body
        too_big = IndexUnavailable(
            f"{url}: the response is larger than {limit} bytes; that is no index page"
        )
        if reply.content_length is not None and reply.content_length > limit:
            raise too_big
        # One growing buffer, not a list of chunks: a large buffer lives in its own mapping,
        # which goes back to the system when a rejected body is dropped (small chunks would
        # stay in the allocator's arenas, and the process's memory would only grow).
        body = bytearray()
        async for chunk in reply.content.iter_chunked(1 << 16):
            if len(body) + len(chunk) > limit:
                del body
                raise too_big
            body += chunk
        return bytes(body)
