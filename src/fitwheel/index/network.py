"""How fitwheel reaches an index host: proxies, trusted certificates, a client certificate.

`NetworkOptions` is one value, built at the edge from the command line and the environment
(`NetworkOptions.from_environment`), and every HTTP client of fitwheel opens its session with
`open_session` and asks `request_options(url)` for each request, so pages, variants documents,
relayed files and locked downloads all go the same way:

- Proxy: `--proxy`, else `https_proxy` / `http_proxy` / `all_proxy` (either case, lower case
  first), never for a host `no_proxy` / `NO_PROXY` exempts: `*`, a domain and its subdomains
  (`example.com`, `.example.com`), a `host:port`, an IP address or a CIDR block
  (`10.0.0.0/8`). aiohttp's own `trust_env` is not used: it matches NO_PROXY against the host
  only (a `host:port` entry never matches), knows no CIDR blocks, and sends netrc passwords by
  itself.
- Certificates: `--cert FILE` (a CA bundle, or a folder of hashed certificates), else the first
  of `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`, `PIP_CERT`; else the system trust
  store (through `truststore`), else certifi's bundle, else Python's default.
- `--client-cert FILE`: one PEM file holding the certificate and its private key, as pip takes it.
- Trusted hosts (`pip --trusted-host`): HTTPS without certificate checks for those hosts.

Failures are described in the user's words by `describe`: the reason and the option that fixes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from fitwheel.errors import InvalidNetworkOption

if TYPE_CHECKING:
    import ssl

    import aiohttp

KEYRING_PROVIDERS = ("auto", "disabled", "import", "subprocess")
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT")
"""Environment variables naming a CA bundle, first found wins (after `--cert`)."""

_TRUST_HINT = "pass --cert FILE or set SSL_CERT_FILE"
_PROXY_HINT = "check --proxy / HTTPS_PROXY, or exempt the host with NO_PROXY"


@dataclass(frozen=True)
class NetworkOptions:
    """Proxies, certificates and keyring use for every request fitwheel sends."""

    cert: str | None = None
    """A CA bundle file or folder replacing the system trust store."""
    cert_source: str = "--cert"
    """The option or variable that named `cert` (for messages)."""
    client_cert: str | None = None
    """A PEM file with the client certificate and its private key."""
    proxy: str | None = None
    """A proxy for every scheme (`--proxy`); beats the environment's."""
    proxies: tuple[tuple[str, str], ...] = ()
    """(scheme, proxy URL) from the environment (`https_proxy`, ...)."""
    no_proxy: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    """`host` or `host:port` reached over HTTPS without checking its certificate."""
    keyring_provider: str = "auto"
    """Where to look for a login after a 401: auto, disabled, import or subprocess."""

    def __post_init__(self) -> None:
        if self.keyring_provider not in KEYRING_PROVIDERS:
            raise InvalidNetworkOption(
                f"--keyring-provider {self.keyring_provider!r}: choose one of "
                + ", ".join(KEYRING_PROVIDERS)
            )
        if self.proxy is not None:
            _check_proxy(self.proxy)

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        cert: str | None = None,
        client_cert: str | None = None,
        proxy: str | None = None,
        keyring_provider: str | None = None,
        trusted_hosts: tuple[str, ...] = (),
    ) -> NetworkOptions:
        """The options given (None: not given), the environment filling in the rest."""
        env = os.environ if environ is None else environ
        source = "--cert"
        if cert is None:
            source, cert = next(((k, env[k]) for k in CA_VARIABLES if env.get(k)), (source, None))
        proxies = []
        for scheme in ("http", "https"):
            for name in (f"{scheme}_proxy", "all_proxy"):
                value = env.get(name) or env.get(name.upper())
                if value:
                    proxies.append((scheme, value))
                    break
        no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
        return cls(
            cert=cert,
            cert_source=source,
            client_cert=client_cert,
            proxy=proxy or None,
            proxies=tuple(proxies),
            no_proxy=tuple(e for e in no_proxy.replace(",", " ").split() if e),
            trusted_hosts=trusted_hosts,
            keyring_provider=keyring_provider or "auto",
        )

    def proxy_for(self, url: str) -> str | None:
        """The proxy `url` goes through (None: straight to the host)."""
        parts = urlsplit(url)
        if not parts.hostname or _exempt(self.no_proxy, parts.hostname, _port(parts)):
            return None
        if self.proxy is not None:
            return _with_scheme(self.proxy)
        found = dict(self.proxies).get(parts.scheme)
        if found is None:
            return None
        _check_proxy(found)  # here, not before: an unusable proxy that is never used is fine
        return _with_scheme(found)

    def is_trusted(self, url: str) -> bool:
        """Whether `url`'s host was named by `--trusted-host` (no certificate checks)."""
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), _port(parts)
        for entry in self.trusted_hosts:
            name, _, wanted = entry.lower().rpartition(":") if ":" in entry else (entry, "", "")
            if name.strip("[]") == host and (not wanted or wanted == str(port)):
                return True
        return False

    def request_options(self, url: str) -> dict[str, Any]:
        """Keyword arguments for `session.get(url, ...)`: proxy, its login, certificate checks."""
        import base64

        options: dict[str, Any] = {}
        proxy = self.proxy_for(url)
        if proxy is not None:
            parts = urlsplit(proxy)
            if parts.username is not None:
                login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                token = base64.b64encode(login.encode()).decode("ascii")
                options["proxy_headers"] = {"Proxy-Authorization": f"Basic {token}"}
                proxy = proxy.replace(parts.netloc, parts.netloc.rpartition("@")[2], 1)
            options["proxy"] = proxy
        if self.is_trusted(url):
            options["ssl"] = False
        return options

    def ssl_context(self) -> ssl.SSLContext:
        """The context every HTTPS connection verifies with (built once per options)."""
        return _context(self.cert, self.cert_source, self.client_cert)


def _port(parts: Any) -> int | None:
    try:
        port: int | None = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    return port


def _with_scheme(proxy: str) -> str:
    """pip takes `host:port` for `--proxy`; that means an http:// proxy."""
    return proxy if "://" in proxy else f"http://{proxy}"


def _check_proxy(proxy: str) -> None:
    parts = urlsplit(_with_scheme(proxy))
    shown = _shown(proxy)
    if parts.scheme != "http":
        raise InvalidNetworkOption(
            f"proxy {shown}: only http:// proxies are supported (HTTPS goes through them "
            "with CONNECT)"
        )
    if not parts.hostname:
        raise InvalidNetworkOption(f"proxy {shown}: not a proxy URL (http://HOST:PORT)")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise InvalidNetworkOption(f"proxy {shown}: the port is not a number") from None


def _shown(url: str) -> str:
    """`url` without a password (proxy URLs carry them)."""
    netloc = urlsplit(_with_scheme(url)).netloc
    return url.replace(netloc, netloc.rpartition("@")[2], 1) if "@" in netloc else url


def _exempt(entries: tuple[str, ...], host: str, port: int | None) -> bool:
    """Whether NO_PROXY `entries` exempt `host` (on `port`)."""
    import ipaddress

    host = host.lower().strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in entries:
        if entry == "*":
            return True
        name, wanted = _split_entry(entry.lower())
        if wanted is not None and wanted != str(port):
            continue
        if address is not None and _matches_address(name, address):
            return True
        name = name.removeprefix("*").lstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_entry(entry: str) -> tuple[str, str | None]:
    """(host, port or None) of a NO_PROXY entry: `host`, `host:port`, `[v6]:port`, `v6`."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, port
    return entry, None


def _matches_address(name: str, address: Any) -> bool:
    import ipaddress

    try:
        return bool(address in ipaddress.ip_network(name, strict=False))
    except ValueError:
        return False


@lru_cache(maxsize=8)
def _context(cert: str | None, source: str, client_cert: str | None) -> ssl.SSLContext:
    import ssl

    if cert is not None:
        # Only this bundle is trusted, as pip's --cert and requests' verify= do.
        folder = os.path.isdir(cert)
        try:
            context = ssl.create_default_context(
                cafile=None if folder else cert, capath=cert if folder else None
            )
        except (OSError, ssl.SSLError) as exc:
            raise InvalidNetworkOption(
                f"{source} {cert}: cannot use it as a CA bundle ({_reason(exc)})"
            ) from None
    else:
        context = _system_context()
    if client_cert is not None:
        try:
            context.load_cert_chain(client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidNetworkOption(
                f"--client-cert {client_cert}: cannot use it ({_reason(exc)}); it must be one "
                "PEM file holding the certificate and its private key"
            ) from None
    return context


def _system_context() -> ssl.SSLContext:
    """The system trust store (truststore), else certifi's bundle, else Python's default."""
    import ssl

    try:
        import truststore
    except ImportError:
        pass
    else:
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)


@dataclass(frozen=True)
class Failure:
    """Why a request failed, in the user's words: the reason, what fixes it, and whether
    trying again may help."""

    reason: str
    hint: str = ""
    transient: bool = True

    def line(self, url: str, tries: str = "") -> str:
        """`URL: reason (tries); hint`."""
        tried = f" ({tries})" if tries else ""
        return f"{url}: {self.reason}{tried}" + (f"; {self.hint}" if self.hint else "")


def describe(exc: BaseException, options: NetworkOptions, url: str) -> Failure:
    """What went wrong with a request for `url` (never an aiohttp class name)."""
    import aiohttp

    proxy = _shown(options.proxy_for(url) or "")
    if isinstance(exc, TimeoutError):
        return Failure("timed out", "raise --timeout if the index is slow")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        why = getattr(error, "verify_message", None) or _reason(error)
        return Failure(f"certificate not trusted ({why})", _TRUST_HINT, transient=False)
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return Failure(f"cannot connect to the proxy {proxy} ({_os_reason(exc)})", _PROXY_HINT)
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        what = "wants a login (give it in the proxy URL)" if exc.status == 407 else "refused"
        reason = f"the proxy {proxy} {what}: HTTP {exc.status} {exc.message}".rstrip()
        return Failure(reason, _PROXY_HINT, transient=False)
    if isinstance(exc, aiohttp.ClientSSLError):
        return Failure(
            f"TLS failed ({_reason(exc)})",
            f"{_TRUST_HINT}, or check --client-cert",
            transient=False,
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _connect_failure(exc, urlsplit(url).hostname or url)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Failure("the server closed the connection without answering")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return Failure("the answer broke off before its end")
    if isinstance(exc, aiohttp.InvalidURL):
        return Failure("not a valid URL", transient=False)
    return Failure(str(exc) or "the connection failed")


def _connect_failure(exc: aiohttp.ClientConnectorError, host: str) -> Failure:
    import socket

    if isinstance(exc.os_error, socket.gaierror):
        return Failure(f"cannot resolve host {host!r}", "check the URL (or your DNS)")
    if isinstance(exc.os_error, ConnectionRefusedError):
        return Failure("connection refused", "is the server running, and is the URL right?")
    return Failure(f"cannot connect ({_os_reason(exc)})", "check the URL")


def _os_reason(exc: aiohttp.ClientConnectorError) -> str:
    """The system's words for why a connection failed (`connection refused`), not asyncio's
    (`Connect call failed ('127.0.0.1', 1)`)."""
    error = exc.os_error
    if error is None:
        return "failed"
    if error.errno:
        return os.strerror(error.errno).lower()
    return str(error.strerror or error).lower()


def open_session(
    options: NetworkOptions,
    *,
    timeout: aiohttp.ClientTimeout,
    headers: Mapping[str, str],
    limit: int = 100,
    auto_decompress: bool = True,
) -> aiohttp.ClientSession:
    """A client session verifying with `options`' certificates (proxies go per request)."""
    import aiohttp

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, ssl=options.ssl_context()),
        timeout=timeout,
        headers=dict(headers),
        auto_decompress=auto_decompress,
        trust_env=False,
    )
