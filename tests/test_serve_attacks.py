"""The resolving proxy against a hostile upstream (`helpers.hostile`): local files, other
hosts, encoded paths, redirect loops, hanging files. Real servers on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fitwheel.serve.app import DEFAULT_PROFILE, ServeConfig, make_app
from fitwheel.serve.server import BackgroundServer
from fitwheel.serve.upstreams import Upstreams
from helpers.hostile import GOOD_BYTES, Hostile, cpu_profile, hostile_upstream
from helpers.servers import get
from wheelmaker import make_wheel

# A hostile upstream and the proxy as real servers, with timeouts that must elapse.
pytestmark = pytest.mark.slow


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:the proxy machine's own file\n")
    return path


@pytest.fixture
def upstream(secret: Path) -> Iterator[Hostile]:
    with hostile_upstream(secret) as hostile:
        yield hostile


def proxy(
    tmp_path: Path,
    upstream: Hostile,
    allow_hosts: tuple[str, ...] = (),
    answer_timeout: float = 10.0,
) -> BackgroundServer:
    settings = ServeConfig(
        Upstreams((upstream.url,)),
        {DEFAULT_PROFILE: cpu_profile(tmp_path)},
        allow_hosts=allow_hosts,
        answer_timeout=answer_timeout,
    )
    return BackgroundServer(lambda: make_app(settings))


def files(base: str, project: str) -> list[str]:
    status, body = get(f"{base}/simple/{project}/")
    assert status == 200, body
    return [f["filename"] for f in json.loads(body)["files"]]


def test_file_links_are_dropped_and_never_read(
    tmp_path: Path, upstream: Hostile, secret: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "fitwheel.serve"), proxy(tmp_path, upstream) as server:
        assert files(server.url, "fileleak") == []
        status, body = get(f"{server.url}/files/fileleak/fileleak-1.0-py3-none-any.whl")
        assert status == 404 and secret.read_bytes() not in body
    assert "dropped passwd from fileleak: a local file outside the upstream folders" in caplog.text


def test_other_hosts_are_dropped_unless_allowed(
    tmp_path: Path, upstream: Hostile, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "fitwheel.serve"), proxy(tmp_path, upstream) as server:
        assert files(server.url, "otherhost") == []
        status, _ = get(f"{server.url}/files/otherhost/otherhost-1.0-py3-none-any.whl")
        assert status == 404
        status, body = get(f"{server.url}/simple/otherplain/")
        assert status == 200 and upstream.elsewhere.encode() not in body
    assert upstream.elsewhere_hits == []
    assert "is neither an upstream nor allowed (--allow-host)" in caplog.text
    allowed = (upstream.elsewhere.split("//")[1],)
    with proxy(tmp_path, upstream, allow_hosts=allowed) as server:
        assert "otherhost-1.0-py3-none-any.whl" in files(server.url, "otherhost")
        status, body = get(f"{server.url}/files/otherhost/otherhost-1.0-py3-none-any.whl")
        assert status == 200 and body == GOOD_BYTES
    assert len(upstream.elsewhere_hits) == 1


@pytest.mark.parametrize(
    "path",
    [
        "%252e%252e%252fadmin/",
        "..%2fadmin/",
        "%2e%2e/",
        "a%2fb/",
        "%00/",
        "-bad-/",
    ],
)
def test_encoded_separators_never_reach_the_upstream(
    tmp_path: Path, upstream: Hostile, path: str
) -> None:
    with proxy(tmp_path, upstream) as server:
        status, body = get(f"{server.url}/simple/{path}")
        assert status in (404, 400), body
    seen = [p for p in upstream.paths if p != "/simple/"]
    assert seen == [], f"the upstream was asked for {seen}"


def test_redirect_loops_and_redirects_elsewhere_fail_quickly(
    tmp_path: Path, upstream: Hostile
) -> None:
    with proxy(tmp_path, upstream) as server:
        for project in ("loop", "bounce"):
            assert f"{project}-1.0-py3-none-any.whl" in files(server.url, project)
            started = time.monotonic()
            status, body = get(f"{server.url}/files/{project}/{project}-1.0-py3-none-any.whl")
            assert status == 502 and time.monotonic() - started < 5, body
        assert b"redirects to" in body and b"neither an upstream nor allowed" in body
    assert upstream.elsewhere_hits == []


def test_a_hanging_file_is_a_quick_504(tmp_path: Path, upstream: Hostile) -> None:
    with proxy(tmp_path, upstream, answer_timeout=1.0) as server:
        assert "hang-1.0-py3-none-any.whl" in files(server.url, "hang")
        started = time.monotonic()
        status, body = get(f"{server.url}/files/hang/hang-1.0-py3-none-any.whl")
        took = time.monotonic() - started
        # An installer's retry (uv makes three) is answered from memory, not another wait.
        started = time.monotonic()
        again, _ = get(f"{server.url}/files/hang/hang-1.0-py3-none-any.whl")
        retry = time.monotonic() - started
    assert status == 504 and b"no answer within 1 s" in body
    assert took < 3, f"{took:.1f} s to a 504"
    assert again == 504 and retry < 0.5, f"the retry took {retry:.1f} s"
    print(f"504 after {took:.2f} s, the retry after {retry:.2f} s")


def test_an_honest_file_is_relayed(tmp_path: Path, upstream: Hostile) -> None:
    with proxy(tmp_path, upstream) as server:
        assert "good-1.0-py3-none-any.whl" in files(server.url, "good")
        status, body = get(f"{server.url}/files/good/good-1.0-py3-none-any.whl")
    assert status == 200 and body == GOOD_BYTES


def test_the_root_lists_only_valid_project_names(tmp_path: Path) -> None:
    folder = tmp_path / "wheels"
    (folder / "not a name").mkdir(parents=True)
    (folder / "-1.0.tar.gz").write_bytes(b"")
    make_wheel(folder, "demo", "1.0")
    config = ServeConfig(Upstreams((str(folder),)), {DEFAULT_PROFILE: cpu_profile(tmp_path)})
    with BackgroundServer(lambda: make_app(config)) as server:
        status, body = get(server.url + "/simple/")
    assert status == 200
    assert [p["name"] for p in json.loads(body)["projects"]] == ["demo"]
