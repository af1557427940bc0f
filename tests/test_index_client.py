"""IndexClient against real nginx: ETag revalidation, Cache-Control freshness, local folders."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fitwheel.errors import IndexUnavailable, ProjectNotFound
from fitwheel.index import fetch_project
from fitwheel.index.build import build_index
from fitwheel.index.client import ClientSettings, IndexClient, Response, ResponseCache
from helpers.nginx import basic_auth_site, requires_nginx, start_nginx
from helpers.servers import endless_server
from helpers.variants import make_variant, plain_wheel


@pytest.fixture
def index(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    base = plain_wheel(tmp_path / "scratch", "demo", "1.0")
    make_variant(base, source, "x86_64 :: level :: v2", label="x86_64_v2")
    build_index(source, tmp_path / "www")
    return tmp_path / "www"


@requires_nginx
@pytest.mark.e2e
def test_pages_revalidate_with_etag_and_immutable_files_are_not_refetched(
    index: Path, tmp_path: Path
) -> None:
    with start_nginx(index, tmp_path) as server:

        async def main() -> int:
            async with IndexClient() as client:
                first = await client.project_page(server.url, "demo")
                second = await client.project_page(server.url, "demo")
                assert first == second
                wheel = next(f for f in first.files if f.filename.endswith(".whl"))
                assert await client.read(wheel.url) == await client.read(wheel.url)
                documents = await client.variants_documents(first)
                assert list(documents) == ["1.0"]
                return client.requests

        requests = asyncio.run(main())
        log = server.requests()
    # page, page again (304), wheel once (max-age), variants.json
    assert requests == 4
    page_lines = [line for line in log if '"GET /demo/ ' in line]
    assert [line.split('" ')[1].split()[0] for line in page_lines] == ["200", "304"]


def test_local_index_tree_and_flat_folder(index: Path, tmp_path: Path) -> None:
    page, documents = fetch_project(str(index), "Demo")
    assert page.url == (index / "demo").as_uri() + "/"
    assert {type(d).__name__ for d in documents.values()} == {"VariantsDocument"}
    flat, flat_documents = fetch_project((tmp_path / "src").as_uri(), "demo")
    assert [f.filename for f in flat.files] == ["demo-1.0-py3-none-any-x86_64_v2.whl"]
    assert "lists no demo-1.0-variants.json" in str(flat_documents["1.0"])
    with pytest.raises(ProjectNotFound, match="no page for project 'other'"):
        fetch_project(str(index), "other")


@requires_nginx
@pytest.mark.e2e
def test_the_response_cache_is_bounded_least_recently_used_first(
    index: Path, tmp_path: Path
) -> None:
    wheel = next((index / "demo").glob("*.whl"))
    names = [wheel.name, "index.html", "demo-1.0-variants.json"]
    sizes = [(index / "demo" / name).stat().st_size for name in names]
    with start_nginx(index, tmp_path) as server:
        urls = [server.url + "demo/" + name for name in names]

        async def read(cache: ResponseCache, *picks: int) -> None:
            async with IndexClient(cache=cache) as client:
                for pick in picks:
                    assert (
                        await client.read(urls[pick]) == (index / "demo" / names[pick]).read_bytes()
                    )

        def held(cache: ResponseCache) -> list[bool]:
            return [(url, "*/*") in cache for url in urls]

        by_count = ResponseCache(max_entries=2)
        asyncio.run(read(by_count, 0, 1, 2))
        assert held(by_count) == [False, True, True] and by_count.size == sizes[1] + sizes[2]
        asyncio.run(read(by_count, 1, 0))  # 1 is used again, so 2 is now the one to go
        assert held(by_count) == [True, True, False] and len(by_count) == 2

        by_bytes = ResponseCache(max_bytes=sizes[1] + sizes[2])
        asyncio.run(read(by_bytes, 0, 1, 2))
        assert held(by_bytes) == [False, True, True] and by_bytes.size <= by_bytes.max_bytes

    too_big = ResponseCache(max_bytes=sizes[0] - 1)
    too_big.store("u", "*/*", Response("u", wheel.read_bytes(), "x"), {"ETag": '"1"'})
    assert len(too_big) == 0 and too_big.size == 0


def test_a_page_without_end_is_cut_off_with_a_clear_error() -> None:
    async def main(url: str) -> None:
        async with IndexClient(ClientSettings(max_body=1 << 20, timeout=20)) as client:
            await client.project_page(url, "demo")

    with endless_server() as url, pytest.raises(IndexUnavailable) as caught:
        asyncio.run(main(url))
    assert str(caught.value) == (
        f"{url}demo/: the response is larger than 1048576 bytes; that is no index page"
    )


@requires_nginx
@pytest.mark.e2e
def test_credentials_in_the_index_url_reach_its_every_url_and_no_message(
    index: Path, tmp_path: Path
) -> None:
    site = basic_auth_site(tmp_path, "fleet", "s3cr%t@x")
    with start_nginx(index, tmp_path, site_config=site) as server:
        # The password as a URL spells it (percent-encoded), as pip accepts it.
        url = server.url.replace("http://", "http://fleet:s3cr%25t%40x@")

        async def main() -> None:
            async with IndexClient() as client:
                page = await client.project_page(url, "demo")
                assert "@" not in page.url and "s3" not in page.url
                documents = await client.variants_documents(page)  # same origin: same login
                assert list(documents) == ["1.0"]
                with pytest.raises(ProjectNotFound) as caught:
                    await client.project_page(url, "other")
                assert "s3" not in str(caught.value) and server.url in str(caught.value)

        asyncio.run(main())
        log = server.requests()
    assert log and all('" 200 ' in line or '" 404 ' in line for line in log), log


def test_redact_and_origins() -> None:
    from fitwheel.index.credentials import Credentials, redact

    assert redact("https://u:p@host:8443/simple/") == "https://host:8443/simple/"
    assert redact("https://host/simple/") == "https://host/simple/"
    credentials = Credentials(environ={"NETRC": "/nonexistent"})
    assert credentials.learn("https://u%40corp:p%3Aw@host/simple/") == "https://host/simple/"
    assert credentials.for_url("https://host:443/files/x.whl") == ("u@corp", "p:w")
    assert credentials.for_url("http://host/files/x.whl") is None  # another scheme
    assert credentials.for_url("https://host:8443/files/x.whl") is None  # another port
    assert credentials.for_url("https://cdn.example/x.whl") is None


@requires_nginx
@pytest.mark.e2e
def test_credentials_from_the_netrc_file(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = basic_auth_site(tmp_path, "fleet", "n3trc")
    with start_nginx(index, tmp_path, site_config=site) as server:
        netrc_file = tmp_path / "netrc"
        netrc_file.write_text("machine 127.0.0.1 login fleet password n3trc\n")
        monkeypatch.setenv("NETRC", str(netrc_file))

        async def main() -> None:
            async with IndexClient() as client:
                page = await client.project_page(server.url, "demo")
                assert list(await client.variants_documents(page)) == ["1.0"]

        asyncio.run(main())
        monkeypatch.setenv("NETRC", str(tmp_path / "missing"))
        with pytest.raises(IndexUnavailable, match=r"demo/: HTTP 401 Unauthorized"):
            asyncio.run(main())
