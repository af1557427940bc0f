"""What the ephemeral proxy costs to start: imports it keeps off the path, and its exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment as packaging_environment

from fitwheel.detect import detect
from fitwheel.select import Target
from helpers.serve_fixtures import OVERRIDES, build_index, clean_env

# The two names an `[interpreter]` table cannot give: a detected target leaves them empty.
_NOT_IN_A_PROFILE = ("platform_release", "platform_version")


def test_a_detected_targets_marker_environment_is_packagings() -> None:
    """Derived from the probed `[interpreter]` table alone, without looking at `platform`."""
    environment = dict(Target.of(detect()).environment)
    expected = {**packaging_environment(), "extra": ""}
    for name in _NOT_IN_A_PROFILE:
        assert environment.pop(name) == ""
        expected.pop(name)
    assert environment == expected


@pytest.mark.slow
def test_resolving_pages_keeps_packaging_markers_unimported(tmp_path: Path) -> None:
    """The proxy resolves a variant project's page (a local-folder upstream) without the
    marker parser: a release without markers never needs it."""
    out = build_index(tmp_path / "index")
    script = f"""
import sys, urllib.request
from fitwheel.installers.proxy import _start_proxy
from fitwheel.serve.sockets import listening_socket, socket_url
from fitwheel.detect import detect
sock = listening_socket()
server, proxy = _start_proxy([{str(out)!r}], detect(), sock, ())
try:
    for name in ("torchlike", "visionlike", "fastmath"):
        page = urllib.request.urlopen(socket_url(sock) + "/simple/" + name + "/").read()
        assert b".whl" in page, page
finally:
    server.stop()
print("packaging.markers" in sys.modules)
"""
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_the_quick_exit_keeps_the_status_and_our_last_line(tmp_path: Path) -> None:
    """`fitwheel pip` ends with os._exit: pip's status comes through, and the line fitwheel
    prints after pip has exited is flushed, into a pipe as into a terminal."""
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(python.parent.parent)], check=True
    )
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    args = ["pip", "--python", str(python), "install", "--retries", "0",
            "-i", "http://127.0.0.1:9/simple/", "torchlike"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "fitwheel", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1  # pip's own status for a requirement it cannot find
    assert result.stderr.splitlines()[-1].startswith("fitwheel: error: pip could not use")
