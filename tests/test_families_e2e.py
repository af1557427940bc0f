"""Index families end to end: nginx serving PyTorch's index shape, real pip and uv installs.

Machines are given by fitwheel's overrides (`FITWHEEL_CUDA_DRIVER`, `FITWHEEL_CUDA_ARCH`,
`FITWHEEL_AMD_GFX`); every request stays on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.tags import sys_tags

from fitwheel.detect import detect
from fitwheel.families import load_families
from fitwheel.serve.app import ServeConfig, make_app
from fitwheel.serve.server import BackgroundServer
from fitwheel.serve.upstreams import Upstreams
from helpers.cli import fitwheel
from helpers.families import build_family_site
from helpers.nginx import requires_nginx, start_nginx
from helpers.serve_fixtures import NO_GPU, clean_env, detect_profile
from helpers.servers import status_server
from helpers.venvs import fresh_venv, installed_dist_info, installed_version

PYTHON_TAG = next(iter(sys_tags())).interpreter
JSON = "application/vnd.pypi.simple.v1+json"

MACHINES = {
    "gtx1080ti": ({"FITWHEEL_CUDA_DRIVER": "12.8", "FITWHEEL_CUDA_ARCH": "6.1"}, "cu126"),
    "a6000": ({"FITWHEEL_CUDA_DRIVER": "12.8", "FITWHEEL_CUDA_ARCH": "8.6"}, "cu128"),
    "h100": ({"FITWHEEL_CUDA_DRIVER": "13.0", "FITWHEEL_CUDA_ARCH": "9.0"}, "cu130"),
    "v100": ({"FITWHEEL_CUDA_DRIVER": "13.0", "FITWHEEL_CUDA_ARCH": "7.0"}, "cu128"),
    "rtx5090": ({"FITWHEEL_CUDA_DRIVER": "12.8", "FITWHEEL_CUDA_ARCH": "12.0"}, "cu128"),
    "no_gpu": ({}, "cpu"),
    "mi300": ({"FITWHEEL_AMD_GFX": "gfx942"}, "rocm6.4"),
}

pytestmark = [requires_nginx, pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class Site:
    family: str
    """The `--index-family` value: `pytorch=BASE`."""
    pypi: str
    root: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = build_family_site(tmp_path_factory.mktemp("family"), PYTHON_TAG)
    with start_nginx(root, root) as nginx:
        yield Site(f"pytorch={nginx.url}whl/", f"{nginx.url}pypi/", root)


def machine_env(tmp_path: Path, name: str) -> dict[str, str]:
    return clean_env(tmp_path, {**NO_GPU, **MACHINES[name][0]})


@pytest.mark.parametrize("installer", ["pip", "uv"])
@pytest.mark.parametrize("name", sorted(MACHINES))
def test_install_gets_the_member_build_that_fits(
    site: Site, tmp_path: Path, installer: str, name: str
) -> None:
    python = fresh_venv(tmp_path / "venv")
    env = machine_env(tmp_path, name)
    if installer == "pip":
        args = ["pip", "--index-family", site.family, "--python", str(python), "install",
                "-i", site.pypi, "torch", "torchvision"]  # fmt: skip
    else:
        args = ["uv", "--index-family", site.family, "pip", "install", "--python", str(python),
                "-i", site.pypi, "torch", "torchvision"]  # fmt: skip
    result = fitwheel(*args, env=env, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = MACHINES[name][1]
    assert installed_version(python, "torch") == f"2.9.0+{expected}"
    assert installed_version(python, "torchvision") == f"0.24.0+{expected}"
    # The member files come straight from the member's index, not through the proxy; the
    # build is named from what was installed (after the installer finished).
    said = [line for line in result.stderr.splitlines() if line.startswith("fitwheel: ")]
    assert [line.split(" (")[0] for line in said] == [
        f"fitwheel: torch 2.9.0 -> {expected}",
        f"fitwheel: torchvision 0.24.0 -> {expected}",
    ], result.stderr
    assert installed_dist_info(python, "typing_shim") is not None


def test_the_environment_variable_names_the_family_too(site: Site, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    env = {**machine_env(tmp_path, "gtx1080ti"), "FITWHEEL_INDEX_FAMILIES": site.family}
    args = ["pip", "--python", str(python), "install", "-i", site.pypi, "torchvision==0.23.0"]
    result = fitwheel(*args, env=env, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(python, "torch") == "2.8.0+cu126"
    assert installed_version(python, "torchvision") == "0.23.0+cu126"


def test_without_the_family_the_default_index_supplies_torch(site: Site, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    env = machine_env(tmp_path, "gtx1080ti")
    args = ["pip", "--python", str(python), "install", "-i", site.pypi, "torch"]
    result = fitwheel(*args, env=env, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(python, "torch") == "2.9.0"


def test_explain_shows_the_member_and_why_the_others_lost(site: Site, tmp_path: Path) -> None:
    env = machine_env(tmp_path, "gtx1080ti")
    args = ["explain", "torch", "--index-url", site.pypi, "--index-family", site.family,
            "--format", "json"]  # fmt: skip
    result = fitwheel(*args, env=env, timeout=240)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["version"] for r in report["releases"]] == ["2.9.0", "2.8.0"]
    latest = report["releases"][0]
    linux = f"{PYTHON_TAG}-{PYTHON_TAG}-manylinux_2_17_x86_64.whl"
    assert latest["chosen"]["filename"] == f"torch-2.9.0+cu126-{linux}"
    assert latest["chosen"]["label"] == "cu126"
    assert latest["chosen"]["url"].endswith(f"/whl/cu126/torch-2.9.0%2Bcu126-{linux}")
    reasons = {r["filename"] or r["label"]: r["reason"] for r in latest["rejected"]}
    assert reasons[f"torch-2.9.0+cu128-{linux}"] == (
        "cu128 has no kernels for sm 6.1 (built for 7.0-12.0)"
    )
    assert reasons["cu129"] == "cu129 has no torch 2.9.0 build"
    labels = {r["label"] for r in latest["rejected"]}
    assert labels == {"cpu", "cu126", "cu128", "cu129", "cu130", "cu132", "rocm6.3", "rocm6.4",
                      "rocm7.0", "rocm7.1", "xpu"}  # fmt: skip
    assert "HTTP 404" in reasons["rocm7.0"]
    assert "do not fit" in reasons[f"torch-2.9.0+cu126-{PYTHON_TAG}-{PYTHON_TAG}-win_amd64.whl"]


def test_explain_of_a_companion_follows_torch(site: Site, tmp_path: Path) -> None:
    env = machine_env(tmp_path, "v100")
    args = ["explain", "torchvision", "--index-url", site.pypi, "--index-family", site.family,
            "--format", "json"]  # fmt: skip
    result = fitwheel(*args, env=env, timeout=240)
    assert result.returncode == 0, result.stderr
    latest = json.loads(result.stdout)["releases"][0]
    assert latest["chosen"]["label"] == "cu128"
    reasons = {r["label"]: r["reason"] for r in latest["rejected"] if r["filename"] is None}
    assert "torch 2.9 comes from cu128" in reasons["cu126"]


def test_a_family_that_does_not_have_the_project_says_so(site: Site, tmp_path: Path) -> None:
    env = machine_env(tmp_path, "no_gpu")
    args = ["explain", "torchaudio", "--index-url", site.pypi, "--index-family", site.family]
    result = fitwheel(*args, env=env, timeout=240)
    assert result.returncode == 2
    assert "no member of index family 'pytorch' has project 'torchaudio'" in result.stderr


def test_index_build_writes_a_resolved_mirror_that_stock_pip_installs_from(
    site: Site, tmp_path: Path
) -> None:
    profile = detect_profile(tmp_path / "gtx.json", {**NO_GPU, **MACHINES["gtx1080ti"][0]})
    out = tmp_path / "mirror"
    source = Path(site.root) / "pypi-src"
    args = ["index", "build", str(source), str(out), "--profile", str(profile),
            "--index-family", site.family]  # fmt: skip
    result = fitwheel(*args, env=clean_env(tmp_path), timeout=240)
    assert result.returncode == 0, result.stderr
    page = json.loads((out / "torch" / "index.json").read_text())
    linux = f"{PYTHON_TAG}-{PYTHON_TAG}-manylinux_2_17_x86_64.whl"
    assert sorted(f["filename"] for f in page["files"]) == [
        f"torch-2.8.0+cu126-{linux}",
        f"torch-2.9.0+cu126-{linux}",
    ]
    assert "torchvision" in (out / "index.html").read_text()
    python = fresh_venv(tmp_path / "venv")
    with start_nginx(out, tmp_path) as mirror:
        installed = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-i", mirror.url,
             "torch", "torchvision"],
            env=clean_env(tmp_path), capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert installed_version(python, "torch") == "2.9.0+cu126"
    assert installed_version(python, "torchvision") == "0.24.0+cu126"


def test_serve_gives_each_profile_of_a_fleet_its_member(site: Site, tmp_path: Path) -> None:
    profiles = {
        name: detect(profile=str(detect_profile(tmp_path / f"{name}.json",
                                                {**NO_GPU, **MACHINES[name][0]})))
        for name in ("gtx1080ti", "h100")
    }  # fmt: skip
    config = ServeConfig(Upstreams((site.pypi,)), profiles, families=load_families([site.family]))
    linux = f"{PYTHON_TAG}-{PYTHON_TAG}-manylinux_2_17_x86_64.whl"
    # One file per release: its member build for the machine (torch 2.8 had no cu130 build).
    expected = {
        ("gtx1080ti", "torch"): {f"torch-2.9.0+cu126-{linux}", f"torch-2.8.0+cu126-{linux}"},
        ("h100", "torchvision"): {f"torchvision-0.24.0+cu130-{linux}",
                                  f"torchvision-0.23.0+cu129-{linux}"},
    }  # fmt: skip
    with BackgroundServer(lambda: make_app(config)) as server:
        for (name, project), files in expected.items():
            listed = {f["filename"]: f["url"] for f in page_files(server.url, name, project)}
            assert set(listed) == files
            for filename, url in listed.items():
                member = filename.split("+")[1].split("-")[0]
                assert url == f"{site.family[8:]}{member}/{filename.replace('+', '%2B')}"
        (shim,) = page_files(server.url, "h100", "typing-shim")
        assert shim["url"].startswith(site.pypi)
        request = urllib.request.Request(f"{server.url}/p/h100/simple/", headers={"Accept": JSON})
        with urllib.request.urlopen(request, timeout=30) as reply:
            names = {p["name"] for p in json.loads(reply.read())["projects"]}
        assert {"torch", "torchvision", "torchaudio", "typing-shim"} <= names


def page_files(server: str, profile: str, project: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        f"{server}/p/{profile}/simple/{project}/", headers={"Accept": JSON}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        files: list[dict[str, Any]] = json.loads(reply.read())["files"]
    return files


def test_a_new_release_and_a_new_cuda_member_need_no_code_change(tmp_path: Path) -> None:
    """torch 2.15.0 is not in the build table and `cu134` is in no list: a family file adds
    the member by name; the closest entries are used, and explain says so."""
    members = ("cpu", "cu126", "cu132", "cu134")
    root = build_family_site(
        tmp_path / "site", PYTHON_TAG, {"2.15.0": members}, {"0.30.0": ("2.15.0", members)}
    )
    family_file = tmp_path / "pytorch-next.toml"
    family_file.write_text('extends = "pytorch"\nmembers = ["cu134"]\n')
    linux = f"{PYTHON_TAG}-{PYTHON_TAG}-manylinux_2_17_x86_64.whl"
    with start_nginx(root, tmp_path) as nginx:
        family = f"{family_file}={nginx.url}whl/"
        env = clean_env(tmp_path, {**NO_GPU, "FITWHEEL_CUDA_DRIVER": "13.4",
                                   "FITWHEEL_CUDA_ARCH": "9.0"})  # fmt: skip
        explain = ["explain", "torch", "--index-url", f"{nginx.url}pypi/", "--index-family",
                   family, "--format", "json"]  # fmt: skip
        result = fitwheel(*explain, env=env, timeout=240)
        assert result.returncode == 0, result.stderr
        (release,) = json.loads(result.stdout)["releases"]
        assert release["chosen"]["filename"] == f"torch-2.15.0+cu134-{linux}"
        reason = release["chosen"]["reason"]
        assert "torch 2.15 is not in the build table" in reason
        assert "CUDA 13.4 is not in the build table" in reason
        python = fresh_venv(tmp_path / "venv")
        args = ["pip", "--index-family", family, "--python", str(python), "install",
                "-i", f"{nginx.url}pypi/", "torchvision"]  # fmt: skip
        result = fitwheel(*args, env=env, timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        assert installed_version(python, "torch") == "2.15.0+cu134"
        assert installed_version(python, "torchvision") == "0.30.0+cu134"
        # On a 13.2 driver the new build is refused, with its reason.
        result = fitwheel(*explain, env={**env, "FITWHEEL_CUDA_DRIVER": "13.2"}, timeout=240)
        (release,) = json.loads(result.stdout)["releases"]
        assert release["chosen"]["label"] == "cu132"
        reasons = {r["filename"]: r["reason"] for r in release["rejected"]}
        assert reasons[f"torch-2.15.0+cu134-{linux}"] == (
            "cu134 needs a driver for CUDA 13.4 or newer; the target's driver supports CUDA 13.2"
        )


def test_a_member_that_fails_is_an_error_not_a_fallback(site: Site, tmp_path: Path) -> None:
    """A 503 from one member must not quietly hand the machine another member's build."""
    with status_server(503) as broken:
        family_file = tmp_path / "family.toml"
        base = site.family.partition("=")[2]
        family_file.write_text(
            f'name = "half-broken"\nurl = "{base}"\nprojects = ["torch"]\n'
            f'[[members]]\nname = "cu128"\nurl = "{broken.url}"\n'
            'properties = ["nvidia :: cuda_version_lower_bound :: 12.8"]\n'
            '[[members]]\nname = "cpu"\nproperties = []\n'
        )
        args = ["explain", "torch", "--index-url", site.pypi, "--index-family",
                str(family_file), "--retries", "0"]  # fmt: skip
        result = fitwheel(*args, env=machine_env(tmp_path, "a6000"), timeout=240)
    assert result.returncode == 2
    assert "index family 'half-broken', member cu128" in result.stderr
    assert "HTTP 503" in result.stderr
