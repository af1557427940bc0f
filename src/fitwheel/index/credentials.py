"""Credentials for index hosts: written into index URLs (`https://user:token@host/simple/`),
else found in the user's netrc file (`$NETRC`, else `~/.netrc`), as pip finds them.

Applied as pip applies them: to every URL of the same origin (the page, its variants.json,
its files), sent as HTTP basic auth, and never shown: URLs in messages and in pages fitwheel
serves carry no user info.
"""

from __future__ import annotations

import base64
import netrc
import os
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

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._by_origin: dict[tuple[str, str, int], tuple[str, str]] = {}
        self._environ = os.environ if environ is None else environ
        self._netrc: netrc.netrc | None = None
        self._netrc_read = False

    def learn(self, url: str) -> str:
        """Remember `url`'s user info for its origin; return `url` without it."""
        parts = urlsplit(url)
        found = origin(url)
        if found is not None and parts.username is not None:
            self._by_origin[found] = (unquote(parts.username), unquote(parts.password or ""))
        return redact(url)

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
