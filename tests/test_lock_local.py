"""`fitwheel lock` against a local folder of wheels (the proxy reads it directly), and the
lock's interoperability: real pip, real uv, real venvs; no network, no nginx."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from uv import find_uv_bin

from helpers.cli import fitwheel
from helpers.serve_fixtures import OVERRIDES, build_wheelhouse, clean_env
from helpers.venvs import fresh_venv, installed_dist_info, installed_label
from wheelmaker import make_wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_wheelhouse(tmp_path_factory.mktemp("lock-local") / "src")


def _lock(wheels: Path, out: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = clean_env(out.parent, OVERRIDES["cpu"])
    return fitwheel("lock", *args, "--index-url", wheels, "-o", out, timeout=300, env=env)


@pytest.mark.slow
def test_a_plain_lock_installs_unchanged_with_uv(wheels: Path, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("typing-shim\npillow-shim==1.0\n")
    lock = tmp_path / "pylock.toml"
    assert _lock(wheels, lock, "-r", requirements).returncode == 0
    document = tomllib.loads(lock.read_text())
    assert not any("variants-json" in p for p in document["packages"])
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path)
    done = subprocess.run(
        [find_uv_bin(), "pip", "install", "--python", python, "-r", lock],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in ("typing_shim", "pillow_shim"):
        assert installed_dist_info(python, name) is not None


@pytest.mark.slow
def test_sync_reads_the_locked_file_urls(wheels: Path, tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    assert _lock(wheels, lock, "visionlike").returncode == 0
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["pascal_cu128"])
    result = fitwheel("sync", lock, "--python", python, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    # Locked for this machine (no GPU): the GTX machine has no locked build but null.
    assert installed_label(python, "torchlike") == "null"


@pytest.mark.slow
def test_the_locked_hash_is_the_real_files(wheels: Path, tmp_path: Path) -> None:
    project = tmp_path / "app" / "pyproject.toml"
    project.parent.mkdir()
    project.write_text('[project]\nname = "app"\nversion = "1"\ndependencies = ["fastmath"]\n')
    lock = tmp_path / "pylock.toml"
    assert _lock(wheels, lock, project).returncode == 0
    (package,) = tomllib.loads(lock.read_text())["packages"]
    (wheel,) = package["wheels"]
    path = Path(wheel["url"].removeprefix("file://"))
    assert path.parent == wheels
    assert wheel["hashes"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_a_requirement_pip_cannot_resolve_is_one_line(wheels: Path, tmp_path: Path) -> None:
    result = _lock(wheels, tmp_path / "pylock.toml", "no-such-project")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "no-such-project" in line and "this machine" in line, line
    assert not (tmp_path / "pylock.toml").exists()


def test_a_lock_name_other_tools_refuse_is_refused(tmp_path: Path) -> None:
    result = _lock(tmp_path, tmp_path / "requirements.lock", "fastmath")  # nothing is read
    assert result.returncode == 2
    assert "pylock.NAME.toml" in result.stderr


@pytest.mark.slow
def test_wheels_sharing_a_namespace_folder_install_side_by_side(tmp_path: Path) -> None:
    """Installs run concurrently and every part of the shared folder lands. (The race on
    creating that folder, which `install._SharedFolders` closes, is too rare to provoke on
    demand: this test does not reliably fail without it.)"""
    folder = tmp_path / "wheels"
    folder.mkdir()
    names = [f"nspart-{n:02d}" for n in range(24)]
    for number, name in enumerate(names):
        files = {f"sharedns/deep/tree/part_{number:02d}.py": f"N = {number}\n"}
        make_wheel(folder, name, "1.0", files=files)
    lock = tmp_path / "pylock.toml"
    result = _lock(folder, lock, *names)
    assert result.returncode == 0, result.stderr
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    result = fitwheel("sync", lock, "--python", python, "--find-links", folder, env=env)
    assert result.returncode == 0, result.stderr
    site = next((python.parent.parent / "lib").glob("python*/site-packages"))
    assert len(list((site / "sharedns" / "deep" / "tree").glob("part_*.py"))) == len(names)


@pytest.mark.slow
def test_wheels_locked_by_path_are_read_relative_to_the_lock(wheels: Path, tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    assert _lock(wheels, lock, "fastmath", "typing-shim").returncode == 0
    moved = tmp_path / "project"
    shutil.copytree(wheels, moved / "wheels")
    text = lock.read_text().replace(f'url = "file://{wheels}/', 'path = "wheels/')
    assert 'url = "' not in text
    (moved / "pylock.toml").write_text(text)
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    result = fitwheel("sync", moved / "pylock.toml", "--python", python, env=env)
    assert result.returncode == 0, result.stderr
    (locked,) = re.findall(r'path = "wheels/fastmath-1\.0-py3-none-any-(\w+)\.whl"', text)
    assert installed_label(python, "fastmath") == locked


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("lock-version = [", "not valid TOML"),
        ('created-by = "x"\npackages = []\n', "lock-version"),
        ('lock-version = "2.0"\ncreated-by = "x"\npackages = []\n', "not supported"),
    ],
)
def test_a_malformed_lock_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(text)
    result = fitwheel("sync", lock, "--dry-run", env=clean_env(tmp_path, OVERRIDES["cpu"]))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"fitwheel: error: {lock}: ") and words in line, line


@pytest.mark.slow
def test_a_lock_for_another_python_and_platform(wheels: Path, tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    options = ("--python-version", "3.12", "--platform", "macosx_14_0_arm64")
    result = _lock(wheels, lock, "visionlike", *options)
    assert result.returncode == 0, result.stderr
    (environment,) = tomllib.loads(lock.read_text())["environments"]
    assert environment == (
        'python_version == "3.12" and implementation_name == "cpython" '
        'and sys_platform == "darwin" and platform_machine == "arm64"'
    )
    # This machine is not that one: refused before anything is fetched.
    result = fitwheel("sync", lock, "--dry-run", env=clean_env(tmp_path, OVERRIDES["cpu"]))
    assert result.returncode == 2
    assert ">=3.12" in result.stderr and "Python 3.11" in result.stderr


@pytest.mark.slow
def test_syncing_twice_replaces_a_package_and_its_script(tmp_path: Path) -> None:
    folder = tmp_path / "wheels"
    folder.mkdir()
    files = {
        "hello/__init__.py": "def main():\n    print('hello')\n",
        "hello-1.0.dist-info/entry_points.txt": "[console_scripts]\nhello = hello:main\n",
    }
    make_wheel(folder, "hello", "1.0", files=files)
    lock = tmp_path / "pylock.toml"
    assert _lock(folder, lock, "hello").returncode == 0
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    for _ in range(2):
        result = fitwheel("sync", lock, "--python", python, "--find-links", folder, env=env)
        assert result.returncode == 0, result.stderr
    script = python.parent / "hello"
    done = subprocess.run([script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == "hello\n"


@pytest.mark.slow
def test_a_lock_bigger_than_the_open_file_limit_installs(tmp_path: Path) -> None:
    """Verified files stay open until installed; sync raises a low soft limit to fit them."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    names = [f"many-{n:03d}" for n in range(150)]
    for name in names:
        make_wheel(folder, name, "1.0")
    lock = tmp_path / "pylock.toml"
    result = _lock(folder, lock, *names)
    assert result.returncode == 0, result.stderr
    python = fresh_venv(tmp_path / "venv")
    sync = [sys.executable, "-m", "fitwheel", "sync", lock, "--python", python]
    sync = [*sync, "--find-links", folder]
    done = subprocess.run(
        ["bash", "-c", 'ulimit -S -n 100 && exec "$@"', "sync", *map(str, sync)],
        env=clean_env(tmp_path, OVERRIDES["cpu"]),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert all(installed_dist_info(python, n.replace("-", "_")) for n in names)
