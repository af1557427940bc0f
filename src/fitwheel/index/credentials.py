"""Credentials for index hosts: written into index URLs (`https://user:token@host/simple/`),
else found in the user's netrc file (`$NETRC`, else `~/.netrc`), as pip finds them; and, when
the host answers 401, looked up in the user's keyring (`fitwheel.index.keyrings`).

Applied as pip applies them: to every URL of the same origin (the page, its variants.json,
its files), sent as HTTP basic auth, and never shown: URLs in messages and in pages fitwheel
serves carry no user info.
"""

from __future__ import annotations

import base64
import netrc
import os
import threading
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the default port filled in (None: not one):
    pip's notion of an origin, for credentials and for which hosts links may point at."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None
    return parts.scheme, parts.hostname, port


def redact(url: str) -> str:
    """`url` without its user info (for messages and served pages)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class Credentials:
    """The user and password of each origin: given in a URL (learnt as URLs are seen), else
    from the netrc file, read once."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, keyring_provider: str = "auto"
    ) -> None:
        self._by_origin: dict[tuple[str, str, int], tuple[str, str]] = {}
        self._sources: dict[tuple[str, str, int], str] = {}
        self._services: dict[tuple[str, str, int], list[str]] = {}
        self._keyring_asked: set[tuple[str, str, int]] = set()
        self._keyring_lock = threading.Lock()
        self._environ = os.environ if environ is None else environ
        self._netrc: netrc.netrc | None = None
        self._netrc_read = False
        self.keyring_provider = keyring_provider

    def learn(self, url: str, *, index: bool = False) -> str:
        """Remember `url`'s user info for its origin; return `url` without it. An `index` URL
        is also a keyring service name for its origin."""
        parts = urlsplit(url)
        found = origin(url)
        if found is not None and parts.username is not None:
            login = (unquote(parts.username), unquote(parts.password or ""))
            if self._sources.get(found) != "the keyring" or login[1]:
                self._by_origin[found] = login
                self._sources[found] = "the URL"
        if found is not None and index:
            services = self._services.setdefault(found, [])
            if redact(url) not in services and len(services) < 8:
                services.append(redact(url))
        return redact(url)

    def source(self, url: str) -> str | None:
        """Where the login sent to `url` came from ('the URL', 'the netrc file', 'the
        keyring'), None when none is sent."""
        found = origin(url)
        if found is None or self.for_url(url) is None:
            return None
        return self._sources.get(found, "the netrc file")

    def from_keyring(self, url: str) -> bool:
        """After `url` answered 401: look its origin's login up in the keyring, once per
        origin. True when one was found (and will be sent from now on)."""
        found = origin(url)
        with self._keyring_lock:  # concurrent 401s of one origin ask the keyring once
            if found is None or found in self._keyring_asked:
                return False
            self._keyring_asked.add(found)
            return self._keyring_login(url, found)

    def _keyring_login(self, url: str, found: tuple[str, str, int]) -> bool:
        # Imported here: most runs never meet a 401, and the keyring may start a process.
        from fitwheel.index.keyrings import lookup

        known = self.for_url(url)
        netloc = f"{found[1]}:{found[2]}"
        services = [*self._services.get(found, []), netloc, found[1]]
        login = lookup(self.keyring_provider, services, known[0] if known else None)
        if login is None or login == known:
            return False
        self._by_origin[found] = login
        self._sources[found] = "the keyring"
        return True

    def for_url(self, url: str) -> tuple[str, str] | None:
        """(user, password) for `url`'s origin, if one was given."""
        found = origin(url)
        if found is None:
            return None
        login = self._by_origin.get(found)
        if login is None:
            login = self._from_netrc(found[1])
        return login

    def _from_netrc(self, host: str) -> tuple[str, str] | None:
        if not self._netrc_read:
            self._netrc_read = True
            home = self._environ.get("HOME") or os.path.expanduser("~")
            path = self._environ.get("NETRC") or os.path.join(home, ".netrc")
            try:
                self._netrc = netrc.netrc(path)
            except (OSError, netrc.NetrcParseError):
                self._netrc = None  # no file, or one pip would not read either
        if self._netrc is None:
            return None
        entry = self._netrc.authenticators(host)
        return (entry[0], entry[2] or "") if entry is not None else None

    def headers(self, url: str) -> dict[str, str]:
        """The `Authorization` header for `url` (basic auth), or no header."""
        login = self.for_url(url)
        if login is None:
            return {}
        token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
