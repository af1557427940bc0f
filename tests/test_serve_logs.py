"""`fitwheel serve`'s stderr: one access line per request (text or JSON lines), one warning per
upstream failure however often installers retry, nothing per request under -q."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest

from conftest import Served
from helpers.nginx import free_port, requires_nginx
from helpers.serve_fixtures import OVERRIDES, clean_env, detect_profile
from helpers.servers import get

ACCESS_KEYS = [
    "time", "level", "logger", "message",
    "event", "client", "method", "path", "status", "bytes", "ms", "profile", "build",
]  # fmt: skip


@pytest.fixture(scope="module")
def fleet(served: Served) -> Path:
    profiles = served.root / "logs-fleet"
    if not profiles.exists():
        profiles.mkdir()
        detect_profile(profiles / "gpu.json", OVERRIDES["ampere_cu128"])
        detect_profile(profiles / "cpu.json", OVERRIDES["cpu"])
    return profiles


@contextmanager
def serve(tmp_path: Path, upstream: str, *options: str) -> Iterator[tuple[str, Path]]:
    """A real `fitwheel serve` process; yields its base URL and the file its stderr goes to
    (complete once the block ends: the server is stopped by then)."""
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fitwheel", "serve", "--upstream", upstream,
             "--port", str(port), *options],
            stderr=log, stdout=subprocess.DEVNULL, env=clean_env(tmp_path),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while f"127.0.0.1:{port}".encode() not in log_path.read_bytes():
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}", log_path
        finally:
            process.terminate()
            process.wait(timeout=30)


@requires_nginx
@pytest.mark.e2e
def test_json_access_lines_name_the_profile_and_the_build_handed_out(
    served: Served, fleet: Path, tmp_path: Path
) -> None:
    options = ("--profiles", str(fleet), "--log-format", "json")
    with serve(tmp_path, served.url, *options) as (url, log):
        _, page = get(f"{url}/p/gpu/simple/torchlike/")
        (entry,) = json.loads(page)["files"]
        file_url = urljoin(f"{url}/p/gpu/simple/torchlike/", entry["url"])
        status, wheel = get(file_url)
        assert status == 200
        assert get(f"{url}/p/cpu/simple/nosuchproject/")[0] == 404
        assert get(f"{url}/p/nobody/simple/")[0] == 404
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["listening"] * 2 + ["request"] * 4
    listening = lines[:2]
    assert [line["url"] for line in listening] == [
        f"{url}/p/cpu/simple/",
        f"{url}/p/gpu/simple/",
    ]
    requests = lines[2:]
    for line in requests:
        assert list(line) == ACCESS_KEYS
        assert line["level"] == "info" and line["logger"] == "fitwheel.serve.access"
        assert line["method"] == "GET" and line["client"] == "127.0.0.1"
        assert isinstance(line["ms"], float) and 0 <= line["ms"] < 30_000
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    facts = [(r["path"], r["status"], r["profile"], r["build"]) for r in requests]
    file_path = "/p/gpu/files/torchlike/" + entry["url"].split("/files/torchlike/")[1]
    assert facts == [
        ("/p/gpu/simple/torchlike/", 200, "gpu", None),
        (file_path, 200, "gpu", "cuda12.8"),
        ("/p/cpu/simple/nosuchproject/", 404, "cpu", None),
        ("/p/nobody/simple/", 404, "nobody", None),
    ]
    # Bytes sent, the status line and headers included (nginx's $bytes_sent).
    assert len(page) < requests[0]["bytes"] < len(page) + 600
    assert len(wheel) < requests[1]["bytes"] < len(wheel) + 600


@requires_nginx
@pytest.mark.e2e
def test_text_access_lines_and_quiet(served: Served, fleet: Path, tmp_path: Path) -> None:
    profile = str(fleet / "cpu.json")
    with serve(tmp_path, served.url, "--profile", profile) as (url, log):
        _, page = get(f"{url}/simple/fastmath/")
    lines = log.read_text().splitlines()
    assert lines[0] == f"fitwheel serve: {url}/simple/"
    assert len(lines) == 2
    match = re.fullmatch(r"fitwheel: GET /simple/fastmath/ 200 (\d+) B \d+\.\d ms", lines[1])
    assert match is not None, lines[1]
    assert len(page) < int(match[1]) < len(page) + 600
    # -v: fitwheel's debugging lines too, naming their logger.
    with serve(tmp_path, served.url, "--profile", profile, "-v") as (url, log):
        assert get(f"{url}/simple/fastmath/")[0] == 200
    debug = [x for x in log.read_text().splitlines() if x.startswith("fitwheel: [")]
    assert len(debug) == 1, debug  # not asyncio's or aiohttp's: those need one -v more
    assert re.fullmatch(
        r"fitwheel: \[fitwheel\.serve\.proxy\] resolved fastmath for profile '': 1 files, "
        r"1 streamed; fastmath 1\.0 -> v[1-4] \(.+\)",
        debug[0],
    ), debug
    # -q: the address still, no line per request.
    for quiet in (("-q",), ("--quiet",)):
        with serve(tmp_path, served.url, "--profile", profile, *quiet) as (url, log):
            assert get(f"{url}/simple/fastmath/")[0] == 200
        assert log.read_text().splitlines() == [f"fitwheel serve: {url}/simple/"]


@requires_nginx
@pytest.mark.e2e
def test_a_failing_upstream_is_one_warning_however_often_it_is_asked(
    fleet: Path, tmp_path: Path
) -> None:
    dead = free_port()  # nothing listens there
    options = ("--profile", str(fleet / "cpu.json"), "-q", "--log-format", "json")
    with serve(tmp_path, f"http://127.0.0.1:{dead}/simple/", *options) as (url, log):
        # Retries of one page, other pages, and the root: the same upstream, the same reason.
        for project in ("torchlike", "torchlike", "torchlike", "fastmath", "visionlike"):
            assert get(f"{url}/simple/{project}/")[0] == 502
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    warnings = [line for line in lines if line["level"] == "warning"]
    assert len(warnings) == 1, lines
    (warning,) = warnings
    assert warning["event"] == "upstream_failure"
    assert warning["host"] == f"127.0.0.1:{dead}"
    assert "connect" in warning["reason"].lower()
    assert warning["status"] == 502
    assert warning["message"].startswith(f"upstream 127.0.0.1:{dead} failed: ")
    assert warning["message"].endswith("(HTTP 502 to the client)")
    assert [line["event"] for line in lines] == ["listening", "upstream_failure"]


def test_the_same_failure_of_a_host_is_logged_once_a_new_one_again(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fitwheel.errors import UpstreamError
    from fitwheel.serve import logs

    monkeypatch.setattr(logs, "REPEAT_AFTER", 0.3)
    refused = "{url}: connection failed (refused)"
    with caplog.at_level(logging.WARNING, "fitwheel.serve.upstream"):
        for project in ("a", "b", "a"):  # the URL differs, the failure does not
            url = f"http://10.0.0.1:81/simple/{project}/"
            logs.upstream_failed(
                UpstreamError("http://10.0.0.1:81/simple/", refused.format(url=url)), 502
            )
        logs.upstream_failed(UpstreamError("http://10.0.0.1:81/simple/", "timed out"), 504)
        logs.upstream_failed(UpstreamError("http://10.0.0.2/simple/", "timed out"), 504)
        time.sleep(0.35)
        logs.upstream_failed(UpstreamError("http://10.0.0.1:81/simple/", "timed out"), 504)
    assert [r.getMessage() for r in caplog.records] == [
        "upstream 10.0.0.1:81 failed: http://10.0.0.1:81/simple/a/: connection failed (refused) "
        "(HTTP 502 to the client)",
        "upstream 10.0.0.1:81 failed: timed out (HTTP 504 to the client)",
        "upstream 10.0.0.2 failed: timed out (HTTP 504 to the client)",
        "upstream 10.0.0.1:81 failed: timed out (HTTP 504 to the client)",
    ]
