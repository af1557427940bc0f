"""The warm-cache trap: one `fitwheel serve` port, one profile and then another, installers
with warm caches: each install gets the right build.

Installers cache files by URL. The proxy lists the chosen variant under its label-less name,
which stands for different bytes under different profiles, so its URL must carry the bytes'
sha256: a cached file can then never be taken for another build.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import Served
from helpers.nginx import free_port, requires_nginx
from helpers.processes import interrupt
from helpers.serve_fixtures import OVERRIDES, clean_env, detect_profile
from helpers.venvs import fresh_venv, installed_label

pytestmark = [requires_nginx, pytest.mark.slow, pytest.mark.e2e]


@contextmanager
def serve(upstream: str, profile: Path, port: int, env: dict[str, str]) -> Iterator[str]:
    """`fitwheel serve` as a real process on a fixed 127.0.0.1 port, stopped on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fitwheel", "-q", "serve", "--upstream", upstream,
         "--profile", str(profile), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/simple/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("fitwheel serve did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        interrupt(process)


def listed_url(url: str) -> str:
    """The file URL the served page lists for torchlike (JSON page)."""
    request = urllib.request.Request(
        url + "torchlike/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        (entry,) = json.loads(reply.read())["files"]
    return str(entry["url"])


def install(installer: str, url: str, python: Path, env: dict[str, str]) -> None:
    if installer == "uv":
        command = ["uv", "pip", "install", "--python", str(python), "--no-deps", "-i", url,
                   "torchlike"]  # fmt: skip
        executable = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
        command[0] = executable
    else:
        command = [sys.executable, "-m", "pip", "--python", str(python), "install",
                   "--no-deps", "-i", url, "torchlike"]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_one_port_two_profiles_with_warm_caches(
    served: Served, tmp_path: Path, installer: str
) -> None:
    gpu = detect_profile(tmp_path / "gpu.json", OVERRIDES["ampere_cu128"])
    cpu = detect_profile(tmp_path / "cpu.json", OVERRIDES["cpu"])
    env = clean_env(tmp_path)
    env.pop("PIP_NO_CACHE_DIR")  # this test is about warm caches
    env["PIP_CACHE_DIR"] = str(tmp_path / "pip-cache")
    port = free_port()

    with serve(served.url, gpu, port, env) as url:
        first = fresh_venv(tmp_path / "first")
        install(installer, url, first, env)
        gpu_url = listed_url(url)
    assert installed_label(first, "torchlike") == "cuda12.8"

    with serve(served.url, cpu, port, env) as url:
        second = fresh_venv(tmp_path / "second")
        install(installer, url, second, env)
        cpu_url = listed_url(url)
    assert installed_label(second, "torchlike") == "null"
    # Same port, same label-less filename, other bytes: never the same URL.
    assert gpu_url.rpartition("/")[2] == cpu_url.rpartition("/")[2]
    assert gpu_url != cpu_url

    # And back: the GPU build again, from the caches (the URL names its bytes).
    with serve(served.url, gpu, port, env) as url:
        third = fresh_venv(tmp_path / "third")
        install(installer, url, third, env)
    assert installed_label(third, "torchlike") == "cuda12.8"
