"""Which file links of an upstream page the proxy passes on, fetches and relays.

An upstream page is input from someone else, and the proxy runs on a machine with files,
credentials and a network position of its own. So a link is kept only when it is:

- `http(s)` on the origin (scheme, host, port) of one of the upstreams, or on a host the user
  allowed (`--allow-host`, for a CDN); an upstream on PyPI allows PyPI's file host;
- a `file:` link inside the folder of a local-folder upstream (what such a folder's pages and
  listings give), never elsewhere on the disk.

Anything else (`file:` links from a web upstream, other schemes, other hosts) is dropped from
the page with one logged line saying why. Redirects of relayed files are held to the same rule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from fitwheel.errors import FitwheelError
from fitwheel.index.credentials import DEFAULT_PORTS, origin, redact
from fitwheel.index.local import is_local, local_path
from fitwheel.index.model import ProjectPage

LOG = logging.getLogger(__name__)

PYPI_FILE_HOSTS = {
    "pypi.org": "files.pythonhosted.org",
    "test.pypi.org": "test-files.pythonhosted.org",
}
"""An upstream on the left serves its files from the host on the right."""


class InvalidAllowedHost(FitwheelError, ValueError):
    """An `--allow-host` value is not a host name (with an optional port)."""


def _host(spec: str) -> tuple[str, int | None]:
    """`host` or `host:port` as given to `--allow-host`."""
    parts = urlsplit(f"//{spec.strip()}")
    if not parts.hostname or parts.path or parts.query or parts.username:
        raise InvalidAllowedHost(f"--allow-host {spec!r}: give a host name, optionally with :PORT")
    return parts.hostname.lower(), parts.port


@dataclass(frozen=True)
class LinkPolicy:
    origins: frozenset[tuple[str, str, int]]
    """Upstream origins: their links are kept."""
    hosts: frozenset[tuple[str, int | None]]
    """Allowed hosts (any `http(s)` port, or the one given)."""
    folders: tuple[Path, ...]
    """Local-folder upstreams, resolved: `file:` links inside them are kept."""

    @classmethod
    def for_upstreams(cls, upstreams: Iterable[str], allow_hosts: Iterable[str] = ()) -> LinkPolicy:
        origins, folders = set(), []
        hosts = {_host(spec) for spec in allow_hosts}
        for url in upstreams:
            if is_local(url):
                root = local_path(url).resolve()
                folders.append(root if root.is_dir() else root.parent)
                continue
            found = origin(url)
            if found is not None:
                origins.add(found)
                if found[1] in PYPI_FILE_HOSTS:
                    hosts.add((PYPI_FILE_HOSTS[found[1]], 443))
        return cls(frozenset(origins), frozenset(hosts), tuple(folders))

    def refusal(self, url: str) -> str | None:
        """Why the proxy must not fetch or pass on `url`; None when it may."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file" or is_local(url):
            path = local_path(url).resolve()
            if any(path.is_relative_to(folder) for folder in self.folders):
                return None
            return "a local file outside the upstream folders"
        if scheme not in DEFAULT_PORTS:
            return f"a {scheme}: link (only http and https are fetched)"
        found = origin(url)
        if found is None:
            return "not a valid http(s) URL"
        if found in self.origins:
            return None
        _, host, port = found
        if (host, port) in self.hosts or (host, None) in self.hosts:
            return None
        return f"host {host}:{port} is neither an upstream nor allowed (--allow-host)"

    def filter(self, page: ProjectPage) -> ProjectPage:
        """`page` without the files it must not pass on; each one dropped is logged."""
        kept = []
        for file in page.files:
            why = self.refusal(file.url)
            if why is None:
                kept.append(file)
            else:
                LOG.warning(
                    "dropped %s from %s: %s (%s)", file.filename, page.name, why, redact(file.url)
                )
        if len(kept) == len(page.files):
            return page
        return replace(page, files=tuple(kept))
