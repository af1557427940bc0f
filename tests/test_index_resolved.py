"""Resolved static indexes (`index build --profile`): stock pip and uv install the right build.

Each target gets its own folder; nginx serves them with the documented config; real pip and
real `uv pip` install into fresh virtual environments, and the installed wheel's
`variant.json` says which build arrived.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.catalog import EXPECTED, populate, write_profiles
from helpers.nginx import NginxServer, requires_nginx, start_nginx
from helpers.venvs import installed_label

pytestmark = [requires_nginx, pytest.mark.e2e, pytest.mark.slow]
TARGETS = ("h100", "gtx1080ti", "mi300", "cpu")
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NginxServer, Path]]:
    root = tmp_path_factory.mktemp("resolved")
    source = populate(root / "src", root / "scratch")
    profiles = write_profiles(root / "profiles")
    www = root / "www"
    for target in TARGETS:
        result = subprocess.run(
            [sys.executable, "-m", "fitwheel", "index", "build", str(source), str(www / target),
             "--profile", str(profiles[target])],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    with start_nginx(www, root) as server:
        yield server, root


def fresh_venv(path: Path) -> Path:
    assert UV is not None, "uv is a test dependency"
    subprocess.run([UV, "venv", "-q", str(path)], check=True, timeout=60)
    return path / "bin" / "python"


def test_each_release_lists_only_the_chosen_file(served: tuple[NginxServer, Path]) -> None:
    _, root = served
    page = json.loads((root / "www" / "gtx1080ti" / "torchlike" / "index.json").read_text())
    names = [f["filename"] for f in page["files"]]
    assert len(names) == 2 and all(name.count("-") == 4 for name in names)  # no labels
    assert not any(name.endswith("variants.json") for name in names)
    newest = next(f for f in page["files"] if f["filename"].startswith("torchlike-2.10-"))
    source = next((root / "src").glob("torchlike-2.10-*-cuda12.6.whl"))
    assert newest["hashes"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("installer", "target"), [("pip", "gtx1080ti"), ("pip", "cpu"), ("uv", "h100"), ("uv", "mi300")]
)
def test_stock_installers_get_the_expected_build(
    served: tuple[NginxServer, Path], tmp_path: Path, installer: str, target: str
) -> None:
    server, _ = served
    python = fresh_venv(tmp_path / "env")
    index = server.url + target + "/"
    projects = ["torchlike", "xlevel"]
    if installer == "pip":
        command = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                   "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
                   "--index-url", index, *projects]  # fmt: skip
    else:
        assert UV is not None
        command = [UV, "pip", "install", "-q", "--python", str(python), "--no-cache",
                   "--index-url", index, *projects]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr
    for project in projects:
        assert (
            installed_label(tmp_path / "env" / "bin" / "python", project)
            == EXPECTED[(project, target)]
        )
