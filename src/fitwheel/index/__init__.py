"""Indexes: read PEP 503/691 pages and local folders, fetch variants documents, write static indexes.

`IndexClient` (async) is the reading API; `fetch_project` is its one-call sync form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fitwheel.index.model import ProjectPage
    from fitwheel.variants.metadata import VariantsDocument


def fetch_project(
    index_url: str,
    project: str,
    *,
    timeout: float | None = None,
    retries: int | None = None,
) -> tuple[ProjectPage, Mapping[str, VariantsDocument | str]]:
    """Fetch a project's page and its releases' variants documents (or why each is missing)."""
    import asyncio

    from fitwheel.index.client import ClientSettings, IndexClient

    settings = ClientSettings()
    if timeout is not None:
        settings = settings.with_timeout(timeout)
    if retries is not None:
        settings = settings.with_retries(retries)

    async def main() -> tuple[ProjectPage, Mapping[str, VariantsDocument | str]]:
        async with IndexClient(settings) as client:
            page = await client.project_page(index_url, project)
            return page, await client.variants_documents(page)

    return asyncio.run(main())
