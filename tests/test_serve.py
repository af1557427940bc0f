"""The resolving proxy against a real nginx serving a real `fitwheel index build` output."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Served
from fitwheel.detect import detect
from fitwheel.index.client import ClientSettings
from fitwheel.serve.app import DEFAULT_PROFILE, ServeConfig, make_app
from fitwheel.serve.negotiation import negotiate
from fitwheel.serve.server import BackgroundServer
from fitwheel.serve.upstreams import Upstreams
from helpers.nginx import requires_nginx, start_nginx
from helpers.serve_fixtures import EXPECTED_TORCH, OVERRIDES, detect_profile
from helpers.servers import hanging_server, status_server

JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = f"{JSON}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"

pytestmark = [requires_nginx, pytest.mark.e2e]


@dataclass(frozen=True)
class Profiled:
    """The shared served index, and a folder of profiles of the catalogue's machines."""

    url: str
    out: Path
    profiles: Path


@pytest.fixture(scope="module")
def served(served: Served) -> Profiled:
    """The conftest's `served` index, with profiles: this module's tests name machines."""
    profiles = served.root / "profiles"
    profiles.mkdir(exist_ok=True)
    for name, overrides in OVERRIDES.items():
        detect_profile(profiles / f"{name}.json", overrides)
    return Profiled(served.url, served.out, profiles)


def proxy(
    served: Profiled,
    *profiles: str,
    upstreams: tuple[str, ...] = (),
    client: ClientSettings | None = None,
) -> BackgroundServer:
    names = profiles or ("ampere_cu128",)
    table = {
        (DEFAULT_PROFILE if len(names) == 1 else n): detect(
            profile=str(served.profiles / f"{n}.json")
        )
        for n in names
    }
    config = ServeConfig(Upstreams(upstreams or (served.url,)), table)
    if client is not None:
        config = ServeConfig(config.upstreams, table, client=client)
    return BackgroundServer(lambda: make_app(config))


def get(url: str, accept: str = PIP_ACCEPT, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept, **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def upstream_sha256(served: Profiled, filename: str) -> str:
    project = filename.split("-")[0]
    return hashlib.sha256((served.out / project / filename).read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("profile", sorted(EXPECTED_TORCH))
def test_page_lists_only_the_best_variant_under_its_plain_name(
    served: Profiled, profile: str
) -> None:
    with proxy(served, profile) as server:
        status, headers, body = get(server.url + "/simple/torchlike/")
    assert status == 200 and headers["Content-Type"] == JSON
    files = json.loads(body)["files"]
    assert [f["filename"] for f in files] == ["torchlike-2.10.0-py3-none-any.whl"]
    label = EXPECTED_TORCH[profile]
    # The bytes (and so the sha256) are the upstream's labelled wheel.
    assert files[0]["hashes"]["sha256"] == upstream_sha256(
        served, f"torchlike-2.10.0-py3-none-any-{label}.whl"
    )
    digest = files[0]["hashes"]["sha256"]
    # The URL names the bytes: the same label-less name is another build for another profile.
    assert files[0]["url"] == f"../../files/torchlike/{digest}/torchlike-2.10.0-py3-none-any.whl"


def test_html_page_streamed_file_and_metadata(served: Profiled) -> None:
    with proxy(served) as server:
        status, headers, body = get(server.url + "/simple/torchlike/", accept="text/html")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"variants.json" not in body and b"cuda" not in body
        upstream = served.out / "torchlike" / "torchlike-2.10.0-py3-none-any-cuda12.8.whl"
        digest = hashlib.sha256(upstream.read_bytes()).hexdigest()
        listed = f"files/torchlike/{digest}/torchlike-2.10.0-py3-none-any.whl"
        assert f'href="../../{listed}#sha256={digest}"'.encode() in body
        status, headers, wheel = get(f"{server.url}/{listed}")
        assert status == 200
        assert wheel == upstream.read_bytes()
        assert headers["Content-Length"] == str(len(wheel))
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        # Another build's digest under this name is refused, never answered with these bytes.
        status, _, _ = get(f"{server.url}/files/torchlike/{'0' * 64}/{listed.rpartition('/')[2]}")
        assert status == 404
        # The name alone (no digest) still works, but is not cacheable for ever.
        status, headers, _ = get(server.url + "/files/torchlike/torchlike-2.10.0-py3-none-any.whl")
        assert status == 200 and "immutable" not in headers["Cache-Control"]
        status, _, metadata = get(f"{server.url}/{listed}.metadata")
        assert status == 200
        assert metadata == Path(f"{upstream}.metadata").read_bytes()
        # Files that are not variant wheels keep their upstream URL.
        _, _, page = get(server.url + "/simple/typing-shim/")
        (entry,) = json.loads(page)["files"]
        assert entry["url"].startswith(served.url)


def test_caching_headers_and_conditional_requests(served: Profiled) -> None:
    with proxy(served) as server:
        url = server.url + "/simple/torchlike/"
        _, headers, _ = get(url)
        assert headers["Cache-Control"] == "public, no-cache"  # revalidated: see _page
        assert "Accept" in headers["Vary"]
        status, _, body = get(url, **{"If-None-Match": headers["ETag"]})
        assert status == 304 and body == b""
        _, html_headers, _ = get(url, accept="text/html")
        assert html_headers["ETag"] != headers["ETag"]


def test_names_are_normalized_and_missing_projects_explained(served: Profiled) -> None:
    with proxy(served) as server:
        status, _, body = get(server.url + "/simple/Typing_Shim/")
        assert status == 200 and json.loads(body)["name"] == "typing-shim"
        status, _, body = get(server.url + "/simple/no-such-project/")
        assert status == 404 and b"no upstream has a page for project 'no-such-project'" in body
        status, _, _ = get(server.url + "/files/torchlike/not-listed-1.0-py3-none-any.whl")
        assert status == 404


def test_fleet_serves_each_profile_under_its_name(served: Profiled) -> None:
    with proxy(served, "ampere_cu128", "pascal_cu128", "cpu") as server:
        for name in ("ampere_cu128", "pascal_cu128", "cpu"):
            _, _, body = get(f"{server.url}/p/{name}/simple/torchlike/")
            (entry,) = json.loads(body)["files"]
            chosen = f"torchlike-2.10.0-py3-none-any-{EXPECTED_TORCH[name]}.whl"
            assert entry["hashes"]["sha256"] == upstream_sha256(served, chosen)
            _, _, wheel = get(f"{server.url}/p/{name}/files/torchlike/{entry['filename']}")
            assert hashlib.sha256(wheel).hexdigest() == entry["hashes"]["sha256"]
        status, _, body = get(server.url + "/p/nobody/simple/torchlike/")
        assert status == 404 and b"no profile 'nobody'" in body


def test_first_upstream_with_the_project_supplies_all_of_it(
    served: Profiled, tmp_path: Path
) -> None:
    # A second index that also has `torchlike` (an impostor) and `only-here`.
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(served.out / "typing-shim" / "typing_shim-1.0-py3-none-any.whl", other)
    (other / "typing_shim-1.0-py3-none-any.whl").rename(other / "torchlike-9.9-py3-none-any.whl")
    shutil.copy(
        served.out / "pillow-shim" / "pillow_shim-1.0-py3-none-any.whl",
        other / "only_here-1.0-py3-none-any.whl",
    )
    with proxy(served, upstreams=(served.url, str(other))) as server:
        _, _, body = get(server.url + "/simple/torchlike/")
        assert [f["filename"] for f in json.loads(body)["files"]] == [
            "torchlike-2.10.0-py3-none-any.whl"
        ]
        _, _, body = get(server.url + "/simple/only-here/")
        assert [f["filename"] for f in json.loads(body)["files"]] == [
            "only_here-1.0-py3-none-any.whl"
        ]
        # The root lists the names of both (names only: nothing is merged).
        _, _, body = get(server.url + "/simple/")
        names = [p["name"] for p in json.loads(body)["projects"]]
        assert {"torchlike", "typing-shim", "only-here"} <= set(names)
        assert names == sorted(set(names))
        status, headers, html = get(server.url + "/simple/", accept="text/html")
        assert status == 200 and b'href="only-here/"' in html and "ETag" in headers


def test_a_failing_upstream_is_an_error_not_a_fall_through(served: Profiled) -> None:
    with status_server(500) as broken, proxy(served, upstreams=(broken.url, served.url)) as server:
        started = time.monotonic()
        status, _, body = get(server.url + "/simple/torchlike/")
    assert status == 502
    assert time.monotonic() - started < 10
    assert "HTTP 500" in body.decode() and broken.url in body.decode()


def test_unreachable_upstream_is_a_clear_error(served: Profiled) -> None:
    with proxy(served, upstreams=("http://127.0.0.1:9/simple/",)) as server:
        status, _, body = get(server.url + "/simple/torchlike/")
    assert status == 502
    assert "127.0.0.1:9" in body.decode()


def test_a_hanging_upstream_times_out_and_the_failure_is_remembered(served: Profiled) -> None:
    settings = ClientSettings(retries=0).with_timeout(1.0)
    with hanging_server() as url, proxy(served, upstreams=(url,), client=settings) as server:
        started = time.monotonic()
        status, _, body = get(server.url + "/simple/torchlike/")
        first = time.monotonic() - started
        assert status == 502 and b"timed out" in body, body
        started = time.monotonic()
        status, _, again = get(server.url + "/simple/torchlike/")
        second = time.monotonic() - started
    assert status == 502 and again == body
    assert first < 5 and second < 0.5


def test_fifty_concurrent_clients(served: Profiled) -> None:
    import aiohttp

    expected = (
        served.out / "torchlike" / "torchlike-2.10.0-py3-none-any-cuda12.8.whl"
    ).read_bytes()

    async def client(session: aiohttp.ClientSession, base: str) -> bytes:
        async with session.get(base + "/simple/torchlike/", headers={"Accept": JSON}) as page:
            assert page.status == 200
            (entry,) = (await page.json(content_type=None))["files"]
        async with session.get(f"{base}/files/torchlike/{entry['filename']}") as reply:
            assert reply.status == 200
            return await reply.read()

    async def main(base: str) -> list[bytes]:
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            return await asyncio.gather(*(client(session, base) for _ in range(60)))

    with proxy(served) as server:
        bodies = asyncio.run(main(server.url))
    assert bodies == [expected] * 60


def test_negotiation() -> None:
    assert negotiate(PIP_ACCEPT) == JSON
    assert negotiate("") == "text/html"
    assert negotiate("*/*") == JSON
    assert negotiate("text/html") == "text/html"
    assert negotiate("application/vnd.pypi.simple.v1+html;q=0.5, text/html;q=0.9") == "text/html"
    assert negotiate("image/png") is None


@pytest.mark.slow
def test_streaming_one_gib_keeps_the_server_small(served: Profiled, tmp_path: Path) -> None:
    """A 1 GiB (sparse) file through `python -m fitwheel serve`: peak RSS stays under 100 MiB."""
    index = tmp_path / "big"
    (index / "bigpkg").mkdir(parents=True)
    wheel = index / "bigpkg" / "bigpkg-1.0-py3-none-any-null.whl"
    with open(wheel, "wb") as handle:
        handle.truncate(1 << 30)
    variants = {
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["nvidia"]},
        "variants": {"null": {}},
    }
    (index / "bigpkg" / "bigpkg-1.0-variants.json").write_text(json.dumps(variants))
    (index / "bigpkg" / "index.html").write_text(
        '<a href="bigpkg-1.0-py3-none-any-null.whl#sha256=' + "0" * 64 + '">'
        "bigpkg-1.0-py3-none-any-null.whl</a>\n"
        '<a href="bigpkg-1.0-variants.json">bigpkg-1.0-variants.json</a>\n'
    )
    port = _free_port()
    with start_nginx(index, tmp_path) as nginx:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fitwheel",
                "serve",
                "--upstream",
                nginx.url,
                "--port",
                str(port),
                "--profile",
                str(served.profiles / "cpu.json"),
            ],
            stderr=subprocess.PIPE,
        )
        try:
            assert server.stderr is not None
            server.stderr.readline()  # "fitwheel serve: URL" once it listens
            url = f"http://127.0.0.1:{port}/files/bigpkg/bigpkg-1.0-py3-none-any.whl"
            get(f"http://127.0.0.1:{port}/simple/bigpkg/")
            received = 0
            with urllib.request.urlopen(url, timeout=60) as reply:
                while chunk := reply.read(1 << 20):
                    received += len(chunk)
            status = Path(f"/proc/{server.pid}/status").read_text()
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert received == 1 << 30
    peak_kib = int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1])
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib} KiB"


def _free_port() -> int:
    from helpers.nginx import free_port

    return free_port()


def test_a_download_that_breaks_upstream_breaks_downstream(served: Profiled) -> None:
    """The upstream promises 100 000 bytes and hangs up after 50 000: the client must not
    receive a complete-looking file."""
    import http.client

    from aiohttp import web

    variants = {
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["nvidia"]},
        "variants": {"null": {}},
    }

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text='<a href="broken-1.0-py3-none-any-null.whl">broken-1.0-py3-none-any-null.whl</a>'
            '<a href="broken-1.0-variants.json">broken-1.0-variants.json</a>',
            content_type="text/html",
        )

    async def document(request: web.Request) -> web.Response:
        return web.json_response(variants)

    async def wheel(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 100_000
        await response.prepare(request)
        await response.write(b"x" * 50_000)
        await asyncio.sleep(0.1)
        assert request.transport is not None
        request.transport.abort()
        return response

    def upstream_app() -> web.Application:
        app = web.Application()
        app.router.add_get("/simple/broken/", page)
        app.router.add_get("/simple/broken/broken-1.0-variants.json", document)
        app.router.add_get("/simple/broken/broken-1.0-py3-none-any-null.whl", wheel)
        return app

    with (
        BackgroundServer(upstream_app) as upstream,
        proxy(served, "cpu", upstreams=(upstream.url + "/simple/",)) as server,
    ):
        _, _, body = get(server.url + "/simple/broken/")
        (entry,) = json.loads(body)["files"]
        assert entry["filename"] == "broken-1.0-py3-none-any.whl"
        request = urllib.request.Request(server.url + "/files/broken/" + entry["filename"])
        with (
            pytest.raises(http.client.IncompleteRead),
            urllib.request.urlopen(request, timeout=30) as reply,
        ):
            reply.read()


def test_fleet_profiles_come_from_a_folder(served: Profiled, tmp_path: Path) -> None:
    from fitwheel.errors import InvalidProfile
    from fitwheel.serve.profiles import fleet_profiles

    fleet = tmp_path / "fleet"
    fleet.mkdir()
    with pytest.raises(InvalidProfile, match=r"no NAME\.toml"):
        fleet_profiles(fleet)
    shutil.copy(served.profiles / "hopper_cu130.json", fleet / "h100.json")
    (fleet / "cpu.toml").write_text('[variants.x86_64]\nlevel = ["v2", "v1"]\n')
    (fleet / "notes.txt").write_text("not a profile")
    profiles = fleet_profiles(fleet)
    assert sorted(profiles) == ["cpu", "h100"]
    assert profiles["cpu"].variants.values("x86_64", "level") == ("v2", "v1")
    (fleet / "bad name.toml").write_text("")
    with pytest.raises(InvalidProfile, match="bad name"):
        fleet_profiles(fleet)


def test_a_release_naming_another_provider_is_not_served_by_fitwheels(
    served: Profiled, tmp_path: Path
) -> None:
    # An `nvidia` namespace whose provider table names a third-party plugin: its properties may
    # mean something else, so the proxy (like `explain`) serves the null variant, not cu128.
    sys.path.insert(0, str(Path(__file__).parent))
    from wheelmaker import make_wheel

    links = tmp_path / "links"
    plain = make_wheel(tmp_path / "plain", "acmegpu", "1.0", "py3-none-any")
    fitwheel = [sys.executable, "-m", "fitwheel"]
    make = [*fitwheel, "wheel", "make-variant", str(plain), "-o", str(links)]
    subprocess.run(
        [*make, "-p", "nvidia :: cuda_version_lower_bound :: 12.8", "--label", "cu128"],
        check=True,
    )
    subprocess.run([*make, "--null", "--namespace-priority", "nvidia"], check=True)
    subprocess.run([*fitwheel, "variants", "generate", str(links)], check=True)
    chosen = {}
    for provider in ("known", "acme"):
        document_path = links / "acmegpu-1.0-variants.json"
        if provider == "acme":
            document = json.loads(document_path.read_text())
            document["providers"]["nvidia"] = {
                "requires": ["acme-gpu"],
                "plugin-api": "acme_gpu:Plugin",
            }
            document_path.write_text(json.dumps(document))
        with proxy(served, upstreams=(str(links),)) as server:
            page = server.url + "/simple/acmegpu/"
            _, _, body = get(page)
            (listed,) = json.loads(body)["files"]
            assert listed["filename"] == "acmegpu-1.0-py3-none-any.whl"
            _, _, data = get(urllib.parse.urljoin(page, listed["url"]))
        chosen[provider] = hashlib.sha256(data).hexdigest()
    digest = {
        label: hashlib.sha256((links / f"acmegpu-1.0-py3-none-any-{label}.whl").read_bytes())
        for label in ("cu128", "null")
    }
    assert chosen == {"known": digest["cu128"].hexdigest(), "acme": digest["null"].hexdigest()}


def test_a_malformed_upstream_document_is_a_502_naming_it(served: Profiled, tmp_path: Path) -> None:
    """A variants.json nested 1,000 deep (2 KB) is one bounded error, not a crash or a 500."""
    from helpers.variants import make_variant, plain_wheel

    links = tmp_path / "links"
    plain = plain_wheel(tmp_path / "plain", "deepdoc", "1.0")
    make_variant(plain, links, null=True, namespace_priority="nvidia")
    deep = links / "deepdoc-1.0-variants.json"
    deep.write_text("[" * 1000 + "]" * 1000)
    with proxy(served, upstreams=(str(links),)) as server:
        status, _, body = get(server.url + "/simple/deepdoc/")
    assert status == 502
    message = body.decode()
    assert "deepdoc-1.0-variants.json" in message and "Traceback" not in message
