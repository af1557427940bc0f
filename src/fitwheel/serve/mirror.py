"""A resolved static mirror of index families: their projects' pages for one profile.

For each project of each family, the page a stock installer should see on that machine (one
file per release: the member build that fits, under its real name and URL) is written as
`{project}/index.html` and `{project}/index.json` into an index folder, and the folder's root
pages are rewritten to list every project folder in it. The files stay on the family's host:
the pages link to them, with their hashes. Pages are written atomically (a temporary file,
then a rename: `fitwheel.files`), so a server publishing the folder never serves half a page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fitwheel.errors import ProjectNotFound
from fitwheel.families import Family
from fitwheel.families.fetch import fetch_with_anchor
from fitwheel.files import write_atomically
from fitwheel.index.client import ClientSettings, IndexClient
from fitwheel.index.model import ProjectPage
from fitwheel.index.pages import (
    html_project_page,
    html_root_page,
    json_project_page,
    json_root_page,
)
from fitwheel.select import Target, follow_anchor, resolve_in_family


@dataclass(frozen=True)
class MirrorReport:
    written: tuple[str, ...]
    """Projects whose pages were written."""
    missing: tuple[str, ...]
    """Projects no member of their family carries."""


def _written(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)


def write_family_mirror(
    output: str | Path,
    families: Sequence[Family],
    target: Target,
    *,
    settings: ClientSettings | None = None,
) -> MirrorReport:
    """Write every family project's resolved page into `output` and refresh its root pages."""
    root = Path(output)

    async def fetch_all() -> list[tuple[str, ProjectPage | None]]:
        async with IndexClient(settings) as client:

            async def one(family: Family, project: str) -> tuple[str, ProjectPage | None]:
                try:
                    page, anchor = await fetch_with_anchor(client, family, project)
                except ProjectNotFound:
                    return project, None
                if anchor is not None:
                    page = follow_anchor(page, anchor, target)
                return project, resolve_in_family(page, target, only_chosen=True)

            return await asyncio.gather(*(one(f, p) for f in families for p in sorted(f.projects)))

    written, missing = [], []
    for project, page in asyncio.run(fetch_all()):
        if page is None:
            missing.append(project)
            continue
        _written(root / project / "index.html", html_project_page(page))
        _written(root / project / "index.json", json_project_page(page))
        written.append(project)
    names = sorted(p.parent.name for p in root.glob("*/index.html"))
    _written(root / "index.html", html_root_page(names))
    _written(root / "index.json", json_root_page(names))
    return MirrorReport(tuple(written), tuple(missing))
