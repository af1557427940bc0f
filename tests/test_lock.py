"""`fitwheel lock` / `fitwheel sync`: one lock for four machines, installed offline under each.

Real artefacts only: variant wheels built here, a static index served by a real nginx on
127.0.0.1, real pip resolving behind the proxy, real fresh venvs. The index is stopped before
any sync, so every install is offline (files from the local wheel folder).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from packaging.pylock import Pylock

from fitwheel.lock.document import dumps_lock, loads_lock, stock_view
from helpers.cli import fitwheel
from helpers.nginx import basic_auth_site, requires_nginx, start_nginx
from helpers.serve_fixtures import NO_GPU, OVERRIDES, build_index, clean_env, detect_profile
from helpers.venvs import fresh_venv, installed_dist_info, installed_label

# The four machines of the issue, as `fitwheel detect` overrides.
MACHINES = {
    "nogpu": OVERRIDES["cpu"],
    "a100": {**NO_GPU, "FITWHEEL_CUDA_DRIVER": "12.8", "FITWHEEL_CUDA_ARCH": "8.0"},
    "gtx1080ti": OVERRIDES["pascal_cu128"],
    "x86v2": OVERRIDES["cpu_v2"],
}
EXPECTED_GPU = {"nogpu": "null", "a100": "cuda12.8", "gtx1080ti": "cuda12.6", "x86v2": "null"}
REQUIREMENTS = ("visionlike", "fastmath")


@dataclass(frozen=True)
class Locked:
    lock: Path
    again: bytes
    wheels: Path
    profiles: dict[str, Path]
    root: Path


def _env(root: Path) -> dict[str, str]:
    return clean_env(root, OVERRIDES["cpu"])


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    root = tmp_path_factory.mktemp("lock")
    out = build_index(root)
    profiles = {
        name: detect_profile(root / f"{name}.json", overrides)
        for name, overrides in MACHINES.items()
    }
    lock, again = root / "pylock.toml", root / "again" / "pylock.toml"
    again.parent.mkdir()
    with start_nginx(out, root) as nginx:
        for path in (lock, again):
            args: list[str | Path] = ["lock", *REQUIREMENTS, "--index-url", nginx.url]
            for profile in profiles.values():
                args += ["--profile", profile]
            result = fitwheel(*args, "-o", path, timeout=600, env=_env(root))
            assert result.returncode == 0, result.stderr
    # The index is gone from here on: every sync below is offline.
    yield Locked(lock, again.read_bytes(), root / "src", profiles, root)


def _packages(lock: Path) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in tomllib.loads(lock.read_text())["packages"]}


def _sync(locked: Locked, python: Path, machine: str, *extra: str | Path) -> Any:
    return fitwheel(
        "sync",
        *extra,
        "--python",
        python,
        "--profile",
        locked.profiles[machine],
        timeout=300,
        env=_env(locked.root),
    )


def _site(python: Path) -> list[str]:
    site = next((python.parent.parent / "lib").glob("python*/site-packages"))
    return sorted(p.name for p in site.iterdir() if p.name.endswith(".dist-info"))


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_one_lock_lists_every_build_the_targets_need(locked: Locked) -> None:
    packages = _packages(locked.lock)
    assert set(packages) == {"visionlike", "torchlike", "fastmath", "typing-shim", "pillow-shim"}
    document = tomllib.loads(locked.lock.read_text())
    assert document["lock-version"] == "1.0" and document["created-by"] == "fitwheel"
    torch = packages["torchlike"]
    labels = {w["url"].rsplit("-", 1)[1].removesuffix(".whl") for w in torch["wheels"]}
    assert labels == {"cuda12.8", "cuda12.6", "null"}
    variants = torch["variants-json"]
    assert variants["$schema"].endswith(".json")
    # Pruned to the labels the targets use; each listed label complete.
    assert set(variants["variants"]) == labels
    sm = variants["variants"]["cuda12.6"]["nvidia"]["sm_arch"]
    assert sm == [f"{a}_real" for a in (60, 70, 75, 80, 86, 90)]
    # Every locked hash is the hash of the real upstream file of that name.
    for package in packages.values():
        for wheel in package["wheels"]:
            name = wheel["url"].rsplit("/", 1)[1]
            data = (locked.wheels / name).read_bytes()
            assert wheel["hashes"]["sha256"] == hashlib.sha256(data).hexdigest(), name
            assert wheel.get("size", len(data)) == len(data)
    assert {len(p["wheels"]) for n, p in packages.items() if n.endswith("-shim")} == {1}


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_locking_twice_gives_the_same_bytes(locked: Locked) -> None:
    assert locked.lock.read_bytes() == locked.again


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_the_lock_round_trips_through_packaging_pylock(locked: Locked) -> None:
    text = locked.lock.read_text()
    document = tomllib.loads(text)
    view = stock_view(document)
    assert Pylock.from_dict(view).to_dict() == view
    # fitwheel's reader (validating through packaging.pylock) loses nothing it writes.
    assert dumps_lock(loads_lock(text, where="pylock.toml")) == text


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_sync_installs_each_machine_its_build_offline(
    locked: Locked, tmp_path: Path, machine: str
) -> None:
    python = fresh_venv(tmp_path / "venv")
    result = _sync(locked, python, machine, locked.lock, "--find-links", locked.wheels)
    assert result.returncode == 0, result.stderr
    assert installed_label(python, "torchlike") == EXPECTED_GPU[machine]
    assert installed_label(python, "visionlike") == EXPECTED_GPU[machine]
    profile = json.loads(locked.profiles[machine].read_text())
    best_level = profile["variants"]["x86_64"]["level"][0]
    assert installed_label(python, "fastmath") == best_level
    if machine == "x86v2":
        assert best_level == "v2"
    for plain in ("typing-shim", "pillow-shim"):
        assert installed_dist_info(python, plain.replace("-", "_")) is not None
    shown = result.stdout.splitlines()
    assert any(line.startswith("installed torchlike 2.10.0") for line in shown), shown
    # `fitwheel verify` re-checks the installed builds from their dist-info, independently.
    verified = fitwheel(
        "verify", "--python", python, "--profile", locked.profiles[machine], env=_env(locked.root)
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "3 variant build(s)" in verified.stdout


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_dry_run_json_shows_the_plan_and_installs_nothing(locked: Locked, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    result = _sync(locked, python, "gtx1080ti", locked.lock, "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = {p["name"]: p for p in json.loads(result.stdout)["packages"]}
    assert plan["torchlike"]["label"] == "cuda12.6"
    assert "cuda12.6" in plan["torchlike"]["reason"]
    assert plan["typing-shim"]["label"] is None
    assert _site(python) == []


def _edited(locked: Locked, tmp_path: Path, edit: Any) -> Path:
    document = tomllib.loads(locked.lock.read_text())
    edit({p["name"]: p for p in document["packages"]}, document)
    path = tmp_path / "pylock.toml"
    path.write_text(tomli_w.dumps(document))
    return path


def _refused(result: Any, python: Path, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fitwheel: error: "), lines
    for word in words:
        assert word in lines[0], lines[0]
    assert _site(python) == [], "something was installed"


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_a_tampered_hash_is_refused_before_anything_is_installed(
    locked: Locked, tmp_path: Path
) -> None:
    def tamper(packages: dict[str, Any], _: Any) -> None:
        for wheel in packages["torchlike"]["wheels"]:
            if "cuda12.8" in wheel["url"]:
                wheel["hashes"]["sha256"] = "0" * 64

    path = _edited(locked, tmp_path, tamper)
    python = fresh_venv(tmp_path / "venv")
    result = _sync(locked, python, "a100", path, "--find-links", locked.wheels)
    _refused(result, python, "sha256", "cuda12.8", "nothing was installed")


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_a_missing_file_is_refused(locked: Locked, tmp_path: Path) -> None:
    folder = tmp_path / "wheels"
    shutil.copytree(locked.wheels, folder)
    (missing,) = folder.glob("pillow_shim-*.whl")
    missing.unlink()
    python = fresh_venv(tmp_path / "venv")
    result = _sync(locked, python, "nogpu", locked.lock, "--find-links", folder)
    _refused(result, python, missing.name, "nothing was installed")
    # Without a folder the locked URLs are tried: the index is stopped, so that fails too.
    result = _sync(locked, python, "nogpu", locked.lock)
    _refused(result, python, "cannot download")


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_a_lock_for_another_python_is_refused(locked: Locked, tmp_path: Path) -> None:
    profile = json.loads(locked.profiles["nogpu"].read_text())
    profile["interpreter"]["python_version"] = "3.99.0"
    other = tmp_path / "py399.json"
    other.write_text(json.dumps(profile))
    python = fresh_venv(tmp_path / "venv")
    result = fitwheel(
        "sync", locked.lock, "--python", python, "--profile", other, env=_env(locked.root)
    )
    _refused(result, python, "3.99", "python_version")


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_a_target_without_a_locked_build_is_refused(locked: Locked, tmp_path: Path) -> None:
    def gpu_only(packages: dict[str, Any], _: Any) -> None:
        torch = packages["torchlike"]
        torch["wheels"] = [w for w in torch["wheels"] if not w["url"].endswith("-null.whl")]
        del torch["variants-json"]["variants"]["null"]

    path = _edited(locked, tmp_path, gpu_only)
    python = fresh_venv(tmp_path / "venv")
    result = _sync(locked, python, "nogpu", path, "--find-links", locked.wheels)
    _refused(result, python, "torchlike", "fits the target")
    # The GPU machines still install from the same lock.
    assert _sync(locked, python, "a100", path, "--find-links", locked.wheels).returncode == 0


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_an_unknown_schema_major_is_refused(locked: Locked, tmp_path: Path) -> None:
    def future(packages: dict[str, Any], _: Any) -> None:
        packages["fastmath"]["variants-json"]["$schema"] = (
            "https://variants-schema.wheelnext.dev/peps/825/v1.0.0.json"
        )

    path = _edited(locked, tmp_path, future)
    python = fresh_venv(tmp_path / "venv")
    result = _sync(locked, python, "nogpu", path, "--find-links", locked.wheels)
    _refused(result, python, "major version 1", "fastmath")


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_sync_downloads_by_the_locked_urls(locked: Locked, tmp_path: Path) -> None:
    document = tomllib.loads(locked.lock.read_text())
    old = document["packages"][0]["index"]
    with start_nginx(locked.root / "out", tmp_path) as nginx:
        lock = tmp_path / "pylock.toml"
        lock.write_text(locked.lock.read_text().replace(old, nginx.url))
        python = fresh_venv(tmp_path / "venv")
        result = _sync(locked, python, "a100", lock)
        assert result.returncode == 0, result.stderr
        fetched = [line for line in nginx.requests() if ".whl" in line]
    assert installed_label(python, "torchlike") == "cuda12.8"
    assert len(fetched) == 5 and all(" 200 " in line for line in fetched), fetched


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_explain_shows_what_each_profile_gets_from_the_lock(locked: Locked) -> None:
    args: list[str | Path] = ["explain", "--lock", locked.lock, "--format", "json"]
    for machine in sorted(MACHINES):
        args += ["--profile", locked.profiles[machine]]
    result = fitwheel(*args, env=_env(locked.root))
    assert result.returncode == 0, result.stderr
    reports = json.loads(result.stdout)["profiles"]
    got = {
        Path(r["profile"].split()[-1]).stem: {p["name"]: p["label"] for p in r["packages"]}
        for r in reports
    }
    assert {m: g["torchlike"] for m, g in got.items()} == EXPECTED_GPU
    assert got["x86v2"]["fastmath"] == "v2"


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_a_broken_archive_is_refused_before_anything_is_installed(
    locked: Locked, tmp_path: Path
) -> None:
    """The bytes match the lock (the lock was made from them) but are no wheel."""
    folder = tmp_path / "wheels"
    shutil.copytree(locked.wheels, folder)
    (broken,) = folder.glob("typing_shim-*.whl")
    broken.write_bytes(b"not a zip archive")

    def relock(packages: dict[str, Any], _: Any) -> None:
        (wheel,) = packages["typing-shim"]["wheels"]
        wheel["hashes"] = {"sha256": hashlib.sha256(broken.read_bytes()).hexdigest()}
        wheel["size"] = broken.stat().st_size

    path = _edited(locked, tmp_path, relock)
    python = fresh_venv(tmp_path / "venv")
    result = _sync(locked, python, "a100", path, "--find-links", folder)
    _refused(result, python, broken.name, "nothing was installed")


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_an_index_behind_a_login_never_reaches_the_lock(locked: Locked, tmp_path: Path) -> None:
    site = basic_auth_site(tmp_path, "fleet", "s3cret")
    with start_nginx(locked.root / "out", tmp_path, site_config=site) as nginx:
        index = nginx.url.replace("http://", "http://fleet:s3cret@")
        lock = tmp_path / "pylock.toml"
        env = _env(locked.root)
        result = fitwheel("lock", "visionlike", "--index-url", index, "-o", lock, env=env)
        assert result.returncode == 0, result.stderr
        text = lock.read_text()
        assert "s3cret" not in text and "fleet" not in text
        assert f'index = "{nginx.url}"' in text
        # Without a login the locked URLs answer 401: one line, nothing installed.
        python = fresh_venv(tmp_path / "venv")
        refused = fitwheel("sync", lock, "--python", python, env=env)
        _refused(refused, python, "HTTP 401", "netrc")
        # With the netrc file's login, sync downloads them.
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login fleet password s3cret\n")
        netrc.chmod(0o600)
        result = fitwheel("sync", lock, "--python", python, env={**env, "NETRC": str(netrc)})
    assert result.returncode == 0, result.stderr
    assert installed_label(python, "torchlike") == "null"


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_syncing_again_for_another_machine_replaces_the_builds(
    locked: Locked, tmp_path: Path
) -> None:
    """An image built for an A100 re-synced for a CPU-only node: each build is replaced (the
    old one uninstalled by its RECORD; installer refuses to write over a file)."""
    python = fresh_venv(tmp_path / "venv")
    for machine in ("a100", "nogpu"):
        result = _sync(locked, python, machine, locked.lock, "--find-links", locked.wheels)
        assert result.returncode == 0, result.stderr
        assert installed_label(python, "torchlike") == EXPECTED_GPU[machine]
    assert len([n for n in _site(python) if n.startswith("torchlike-")]) == 1
