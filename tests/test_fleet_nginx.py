"""A fleet behind nginx, as docs/fleet.md deploys it: two real `fitwheel serve --profiles DIR`
processes, a real nginx running docs/nginx-fleet.conf (ports and paths templated), and real
pip installing for two profiles through it.

It proves what the page promises: each machine gets its profile's build; a second install
of a profile comes from nginx's cache (files HIT, pages REVALIDATED against the fleet); one
profile's page or file is never served for another; and with one instance killed, nginx keeps
serving through the other.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest

from conftest import Served
from helpers.nginx import free_port, requires_nginx, start_nginx
from helpers.serve_fixtures import OVERRIDES, clean_env, detect_profile
from helpers.venvs import fresh_venv, installed_label

pytestmark = [requires_nginx, pytest.mark.slow, pytest.mark.e2e]

DOCUMENTED = Path(__file__).resolve().parents[1] / "docs" / "nginx-fleet.conf"
JSON = "application/vnd.pypi.simple.v1+json"
LOG_LINE = re.compile(
    r'(?P<client>\S+) "(?P<method>\S+) (?P<path>\S+) HTTP/1\.[01]" (?P<status>\d{3}) '
    r"(?P<bytes>\d+) cache=(?P<cache>\S+) upstream=(?P<upstream>.*)"
)


@dataclass(frozen=True)
class Request:
    path: str
    status: int
    cache: str
    upstream: str


def fleet_site(ports: tuple[int, int], work: Path) -> tuple[str, Path]:
    """The documented configuration with this test's instances, cache folder and log."""
    log = work / "fleet.log"
    site = (
        DOCUMENTED.read_text()
        .replace("server 127.0.0.1:8001 ", f"server 127.0.0.1:{ports[0]} ")
        .replace("server 127.0.0.1:8002 ", f"server 127.0.0.1:{ports[1]} ")
        .replace("/var/cache/nginx/fitwheel ", f"{work / 'cache'} ")
        .replace("/var/log/nginx/fitwheel-fleet.log ", f"{log} ")
    )
    assert site.count(str(work)) == 2 and f":{ports[1]} " in site, "the documented file changed"
    return site, log


def requests(log: Path) -> list[Request]:
    found = []
    for line in log.read_text().splitlines():
        match = LOG_LINE.fullmatch(line)
        assert match is not None, line
        found.append(
            Request(match["path"], int(match["status"]), match["cache"], match["upstream"])
        )
    return found


@contextmanager
def serve_instance(
    upstream: str, fleet: Path, port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "fitwheel", "serve", "--upstream", upstream,
             "--profiles", str(fleet), "--port", str(port), "-q"],
            stdout=subprocess.DEVNULL, stderr=stderr, env=clean_env(log.parent),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while f"127.0.0.1:{port}".encode() not in log.read_bytes():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)


def pip_install(index: str, venv: Path, env: dict[str, str]) -> None:
    python = fresh_venv(venv)
    command = [sys.executable, "-m", "pip", "--python", str(python), "install",
               "--no-deps", "--no-cache-dir", "-i", index, "torchlike"]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": JSON})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_two_instances_behind_nginx_serve_two_profiles_from_cache_and_survive_one_dying(
    served: Served, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    detect_profile(fleet / "gpu.json", OVERRIDES["ampere_cu128"])
    detect_profile(fleet / "cpu.json", OVERRIDES["cpu"])
    ports = (free_port(), free_port())
    site, log = fleet_site(ports, tmp_path)
    env = clean_env(tmp_path)
    with ExitStack() as stack:
        first = stack.enter_context(
            serve_instance(served.url, fleet, ports[0], tmp_path / "serve-1.log")
        )
        stack.enter_context(serve_instance(served.url, fleet, ports[1], tmp_path / "serve-2.log"))
        nginx = stack.enter_context(start_nginx(tmp_path / "no-root", tmp_path, site))
        index = {name: f"{nginx.url}p/{name}/simple/" for name in ("gpu", "cpu")}

        # Each machine gets its own build, first from the fleet.
        pip_install(index["gpu"], tmp_path / "gpu-1", env)
        pip_install(index["cpu"], tmp_path / "cpu-1", env)
        assert installed_label(tmp_path / "gpu-1" / "bin" / "python", "torchlike") == "cuda12.8"
        assert installed_label(tmp_path / "cpu-1" / "bin" / "python", "torchlike") == "null"
        first_round = requests(log)
        assert {(r.status, r.cache) for r in first_round} == {(200, "MISS")}

        # The second install of a profile: files from nginx's cache, pages revalidated.
        time.sleep(1.1)  # past the second nginx keeps a page without asking
        pip_install(index["gpu"], tmp_path / "gpu-2", env)
        assert installed_label(tmp_path / "gpu-2" / "bin" / "python", "torchlike") == "cuda12.8"
        second_round = requests(log)[len(first_round) :]
        pages = [r for r in second_round if "/simple/" in r.path]
        files = [r for r in second_round if "/files/" in r.path]
        assert pages and files
        assert {(r.status, r.cache) for r in pages} == {(200, "REVALIDATED")}
        assert {(r.status, r.cache, r.upstream) for r in files} == {(200, "HIT", "-")}

        # One profile's page and file are never another's, cached or not.
        pages_by_profile = {name: get(url + "torchlike/") for name, url in index.items()}
        assert {status for status, _ in pages_by_profile.values()} == {200}
        (gpu_entry,) = json.loads(pages_by_profile["gpu"][1])["files"]
        (cpu_entry,) = json.loads(pages_by_profile["cpu"][1])["files"]
        assert gpu_entry["filename"] == cpu_entry["filename"]
        assert gpu_entry["url"] != cpu_entry["url"]
        for name, entry, label in (("gpu", gpu_entry, "cuda12.8"), ("cpu", cpu_entry, "null")):
            upstream = served.out / "torchlike" / f"torchlike-2.10.0-py3-none-any-{label}.whl"
            status, body = get(urljoin(index[name] + "torchlike/", entry["url"]))
            assert status == 200 and body == upstream.read_bytes()
            assert hashlib.sha256(body).hexdigest() == entry["hashes"]["sha256"]
        gpu_file_for_cpu = urljoin(index["cpu"] + "torchlike/", gpu_entry["url"])
        assert "/p/cpu/files/" in gpu_file_for_cpu
        assert get(gpu_file_for_cpu)[0] == 404

        # One instance dies: nginx keeps serving through the other.
        first.kill()
        first.wait(timeout=30)
        before = len(requests(log))
        time.sleep(1.1)
        pip_install(index["cpu"], tmp_path / "cpu-2", env)
        pip_install(index["gpu"], tmp_path / "gpu-3", env)
        assert installed_label(tmp_path / "cpu-2" / "bin" / "python", "torchlike") == "null"
        assert installed_label(tmp_path / "gpu-3" / "bin" / "python", "torchlike") == "cuda12.8"
        after = requests(log)[before:]
        assert after and {r.status for r in after} == {200}
        survivor = f"127.0.0.1:{ports[1]}"
        asked = [r.upstream for r in after if r.upstream != "-"]
        assert asked and all(u.endswith(survivor) for u in asked), asked
