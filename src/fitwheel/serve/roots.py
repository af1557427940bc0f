"""The `/simple/` root: the projects the upstreams list, as one sorted list of names.

A root page only names projects (it carries no files), so listing the union is not a merge of
anything a client installs; which upstream supplies a project is still decided per project by
`upstreams.Upstreams`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from html.parser import HTMLParser

from packaging.utils import canonicalize_name

from fitwheel.errors import FitwheelError, UpstreamError
from fitwheel.index.client import ACCEPT, IndexClient
from fitwheel.index.filenames import is_normalized_name, project_of
from fitwheel.index.json_api import JSON_CONTENT_TYPE
from fitwheel.index.local import is_local, local_path


class _AnchorTexts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._inside = True
            self.names.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.names[-1] += data


def names_in_root(body: bytes, content_type: str, *, where: str) -> list[str]:
    """Project names on a PEP 691 JSON or PEP 503 HTML root page."""
    try:
        if content_type == JSON_CONTENT_TYPE:
            projects = json.loads(body)["projects"]
            return [str(p["name"]) for p in projects]
        parser = _AnchorTexts()
        parser.feed(body.decode("utf-8"))
        return [n.strip() for n in parser.names if n.strip()]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise UpstreamError(where, f"malformed root page ({exc})") from None


def _local_names(url: str) -> list[str]:
    root = local_path(url)
    if not root.is_dir():
        raise UpstreamError(url, "no such folder")
    names = []
    for entry in root.iterdir():
        if entry.is_dir():
            names.append(entry.name)
        elif (project := project_of(entry.name)) is not None:
            names.append(project)
    return names


async def _names(client: IndexClient, url: str) -> list[str]:
    if is_local(url):
        return await asyncio.to_thread(_local_names, url)
    root = url.rstrip("/") + "/"
    try:
        response = await client.get(root, accept=ACCEPT)
    except FitwheelError as exc:
        raise UpstreamError(url, str(exc)) from None
    return names_in_root(response.body, response.content_type, where=root)


async def all_projects(client: IndexClient, upstreams: Iterable[str]) -> list[str]:
    """The normalized names every upstream lists, sorted (names that are no valid project name
    are left out: they could not be served); any upstream failing is an error."""
    lists = await asyncio.gather(*(_names(client, url) for url in upstreams))
    normalized = {canonicalize_name(name) for names in lists for name in names}
    return sorted(name for name in normalized if is_normalized_name(name))
