"""Which upstream index answers for a project: explicit precedence, never a merge.

The rule: upstreams are asked in the order given, and **the first one that has a page for the
project supplies the whole project**; the others are not consulted for it. An upstream that
says the project does not exist (404/410, or a local folder without it) passes the question to
the next one. An upstream that *fails* (unreachable, timeout, 5xx, a malformed page) stops the
search with an error instead: falling through on an outage would let a later index supply a
project the first one owns, which is exactly the dependency-confusion attack.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from fitwheel.errors import FitwheelError, ProjectNotFound, UpstreamError
from fitwheel.index.client import IndexClient
from fitwheel.index.credentials import redact
from fitwheel.index.filenames import is_normalized_name
from fitwheel.index.model import ProjectPage


@dataclass(frozen=True)
class Upstreams:
    """Simple-index URLs (or local folders), highest precedence first."""

    urls: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("at least one upstream index is needed")

    async def project_page(self, client: IndexClient, project: str) -> ProjectPage:
        """The page of the first upstream that has `project`."""
        name = canonicalize_name(project)
        if not is_normalized_name(name):
            # Checked before any URL is built from it: `..`, `%2f` and the like never leave.
            raise ProjectNotFound(f"{project!r} is not a valid project name")
        for url in self.urls:
            try:
                return await client.project_page(url, name)
            except ProjectNotFound:
                continue
            except FitwheelError as exc:
                raise UpstreamError(redact(url), str(exc)) from None
        asked = ", ".join(redact(url) for url in self.urls)
        raise ProjectNotFound(f"no upstream has a page for project {name!r} (asked: {asked})")
