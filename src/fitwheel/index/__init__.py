"""Indexes: read PEP 503/691 pages and local folders, fetch variants documents, write static indexes.

`IndexClient` (async) is the reading API; `fetch_project_async` is its one-call form for async
callers and `fetch_project` the sync one, which works inside a running event loop too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fitwheel.index.model import ProjectPage
    from fitwheel.index.network import NetworkOptions
    from fitwheel.variants.metadata import VariantsDocument

Documents = Mapping[str, "VariantsDocument | str"]
"""Release version -> its variants document, or the reason it has none."""


async def fetch_project_async(
    index_url: str,
    project: str,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    network: NetworkOptions | None = None,
) -> tuple[ProjectPage, Documents]:
    """Fetch a project's page and its releases' variants documents (or why each is missing);
    `network`: proxies, certificates, keyring (default: from the environment)."""
    from fitwheel.index.client import ClientSettings, IndexClient

    settings = ClientSettings() if network is None else ClientSettings(network=network)
    if timeout is not None:
        settings = settings.with_timeout(timeout)
    if retries is not None:
        settings = settings.with_retries(retries)
    async with IndexClient(settings) as client:
        page = await client.project_page(index_url, project)
        return page, await client.variants_documents(page)


def fetch_project(
    index_url: str,
    project: str,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    network: NetworkOptions | None = None,
) -> tuple[ProjectPage, Documents]:
    """`fetch_project_async` for sync callers; inside a running event loop (a notebook, an
    async application) it runs on a worker thread's own loop instead of failing."""
    # Imported here: every `fitwheel.index.*` import runs this file, and most never fetch.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    work = fetch_project_async(
        index_url, project, timeout=timeout, retries=retries, network=network
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(1, thread_name_prefix="fitwheel-fetch") as pool:
        return pool.submit(asyncio.run, work).result()
