"""Small content-addressed files are fetched from the upstream once, checked, then served from
memory; anything else (a range, a URL without the sha256, bytes that do not match) goes
upstream each time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urljoin

import pytest

from conftest import Served
from fitwheel.detect import detect
from fitwheel.serve.app import DEFAULT_PROFILE, ServeConfig, make_app
from fitwheel.serve.filecache import FileCache
from fitwheel.serve.server import BackgroundServer
from fitwheel.serve.upstreams import Upstreams
from helpers.nginx import requires_nginx, start_nginx
from helpers.serve_fixtures import OVERRIDES, detect_profile
from helpers.servers import get

WHEEL = "torchlike-2.10.0-py3-none-any-cuda12.8.whl"


def test_cache_keeps_only_matching_bodies_within_its_bounds() -> None:
    cache = FileCache(max_file_bytes=10, max_total_bytes=25)
    bodies = [bytes([n]) * 10 for n in range(3)]
    digests = [hashlib.sha256(b).hexdigest() for b in bodies]
    assert not cache.put(digests[0], bodies[1], {})  # not the bytes the hash names
    assert not cache.put(hashlib.sha256(b"x" * 11).hexdigest(), b"x" * 11, {})  # too big
    assert len(cache) == 0
    assert cache.put(digests[0], bodies[0], {"Content-Type": "a/b", "Set-Cookie": "no"})
    assert cache.put(digests[1], bodies[1], {})
    hit = cache.get(digests[0])  # now the most recently used
    assert hit is not None and hit.body == bodies[0]
    assert dict(hit.headers) == {"Content-Type": "a/b"}
    assert cache.put(digests[2], bodies[2], {})  # 30 bytes > 25: the least recent goes
    assert cache.get(digests[1]) is None
    assert [cache.get(d) is not None for d in (digests[0], digests[2])] == [True, True]
    assert not cache.put(digests[0], bodies[0], {})  # kept already


def _upstream_requests(log: Path, name: str) -> int:
    return sum(f"/{name} " in line for line in log.read_text().splitlines())


@requires_nginx
@pytest.mark.e2e
def test_a_small_file_is_fetched_once_and_then_served_from_memory(
    served: Served, tmp_path: Path
) -> None:
    profile = detect(profile=str(detect_profile(tmp_path / "a.json", OVERRIDES["ampere_cu128"])))
    with start_nginx(served.out, tmp_path) as nginx:
        config = ServeConfig(Upstreams((nginx.url,)), {DEFAULT_PROFILE: profile})
        with BackgroundServer(lambda: make_app(config)) as server:
            _, page = get(server.url + "/simple/torchlike/")
            (entry,) = json.loads(page)["files"]
            url = urljoin(f"{server.url}/simple/torchlike/", entry["url"])
            upstream = (served.out / "torchlike" / WHEEL).read_bytes()
            for _ in range(3):
                assert get(url) == (200, upstream)
            assert _upstream_requests(nginx.access_log, WHEEL) == 1
            # The sidecar is checked against its own published hash, and kept too.
            sidecar = (served.out / "torchlike" / f"{WHEEL}.metadata").read_bytes()
            for _ in range(2):
                assert get(url + ".metadata") == (200, sidecar)
            assert _upstream_requests(nginx.access_log, f"{WHEEL}.metadata") == 1
            # A URL without the sha256 is not cacheable: it goes upstream each time.
            plain = f"{server.url}/files/torchlike/{entry['filename']}"
            for _ in range(2):
                assert get(plain) == (200, upstream)
            assert _upstream_requests(nginx.access_log, WHEEL) == 3


@requires_nginx
@pytest.mark.e2e
def test_bytes_that_do_not_match_the_published_sha256_are_never_kept(
    served: Served, tmp_path: Path
) -> None:
    """An upstream whose file changed under its page: relayed as is (the installer's hash
    check rejects it), asked again next time, never answered from memory."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(served.out, out)
    profile = detect(profile=str(detect_profile(tmp_path / "a.json", OVERRIDES["ampere_cu128"])))
    with start_nginx(out, tmp_path) as nginx:
        config = ServeConfig(Upstreams((nginx.url,)), {DEFAULT_PROFILE: profile})
        with BackgroundServer(lambda: make_app(config)) as server:
            _, page = get(server.url + "/simple/torchlike/")
            (entry,) = json.loads(page)["files"]
            url = urljoin(f"{server.url}/simple/torchlike/", entry["url"])
            tampered = b"not the published bytes"
            (out / "torchlike" / WHEEL).write_bytes(tampered)
            assert get(url) == (200, tampered)
            assert get(url) == (200, tampered)
            assert _upstream_requests(nginx.access_log, WHEEL) == 2


@requires_nginx
@pytest.mark.e2e
def test_streamed_downloads_reuse_upstream_connections(served: Served, tmp_path: Path) -> None:
    """Files that are not kept (no sha256 in the URL) are streamed over kept-alive upstream
    connections: twenty downloads, one connection to nginx for them."""
    from helpers.nginx import DOCUMENTED_CONFIG

    log = tmp_path / "connections.log"
    site = (
        "log_format connections '$connection $request';\n"
        + DOCUMENTED_CONFIG.read_text().replace(
            "    root /srv/simple;\n", f"    root /srv/simple;\n    access_log {log} connections;\n"
        )
    )
    profile = detect(profile=str(detect_profile(tmp_path / "a.json", OVERRIDES["ampere_cu128"])))
    with start_nginx(served.out, tmp_path, site) as nginx:
        config = ServeConfig(Upstreams((nginx.url,)), {DEFAULT_PROFILE: profile})
        with BackgroundServer(lambda: make_app(config)) as server:
            _, page = get(server.url + "/simple/torchlike/")
            (entry,) = json.loads(page)["files"]
            plain = f"{server.url}/files/torchlike/{entry['filename']}"
            for _ in range(20):
                assert get(plain)[0] == 200
    downloads = [line.split()[0] for line in log.read_text().splitlines() if f"/{WHEEL} " in line]
    assert len(downloads) == 20
    assert len(set(downloads)) == 1, downloads
