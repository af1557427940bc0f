"""`fitwheel pip` / `fitwheel uv`: real pip and uv, real nginx, fresh virtual environments."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Served
from fitwheel.cli.installers import WrapperOptions, split_options
from fitwheel.installers import pip, uv
from helpers.cli import fitwheel
from helpers.nginx import basic_auth_site, requires_nginx, start_nginx
from helpers.serve_fixtures import (
    EXPECTED_TORCH,
    OVERRIDES,
    clean_env,
    detect_profile,
)
from helpers.venvs import fresh_venv, installed_dist_info, installed_label

FITWHEEL = [sys.executable, "-m", "fitwheel"]
PACKAGES = ("visionlike", "fastmath", "sdistonly")


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return fitwheel(*args, env=env, timeout=240)


# --- finding the index the user would have used -----------------------------------------


def test_pip_plan_reads_every_spelling_of_the_index_options() -> None:
    env = {"PIP_CONFIG_FILE": "/dev/null", "HOME": "/nonexistent"}
    plan = pip.plan(
        ["-v", "install", "-iA", "--extra-index-url=B", "--extra-index-url", "C", "torch"], env
    )
    assert plan.upstreams == ("A", "B", "C")
    assert plan.args == ("-v", "install", "torch")
    assert pip.plan(["install", "--index-url", "X", "--", "-i"], env).args == (
        "install",
        "--",
        "-i",
    )
    assert not pip.plan(["install", "--no-index", "-f", "dir", "x"], env).proxied
    assert not pip.plan(["freeze"], env).proxied
    assert pip.plan(["--python", "install", "download", "x"], env).command == "download"
    assert pip.plan(["install", "x"], env).upstreams == (pip.PYPI,)
    from_env = {**env, "PIP_INDEX_URL": "E", "PIP_EXTRA_INDEX_URL": "F G"}
    assert pip.plan(["install", "x"], from_env).upstreams == ("E", "F", "G")
    assert pip.plan(["install", "-i", "A", "x"], from_env).upstreams == ("A", "F", "G")


@pytest.mark.slow
def test_pip_plan_agrees_with_pip_on_configuration_files(tmp_path: Path) -> None:
    """pip itself is the oracle: its "Looking in indexes:" line lists what it would use."""
    xdg = tmp_path / "xdg"
    (xdg / "pip").mkdir(parents=True)
    (xdg / "pip" / "pip.conf").write_text(
        "[global]\nindex-url = http://127.0.0.1:9/global/\n"
        "extra-index-url = http://127.0.0.1:9/g1/ http://127.0.0.1:9/g2/\n"
        "[download]\nindex_url = http://127.0.0.1:9/download/\n"
    )
    env = clean_env(tmp_path)
    del env["PIP_CONFIG_FILE"]
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(xdg), XDG_CONFIG_DIRS=str(tmp_path / "n"))
    args = ["download", "--retries", "0", "-d", str(tmp_path), "--extra-index-url",
            "http://127.0.0.1:9/cli/", "nothing-here"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args], env=env, capture_output=True, text=True, timeout=120
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("Looking in indexes:"))
    pip_says = tuple(u.strip() for u in line.partition(":")[2].split(","))
    assert pip.plan(args, env).upstreams == pip_says


def test_uv_plan_follows_uv_first_index_order() -> None:
    env = {"UV_INDEX_URL": "ENV_DEFAULT", "UV_EXTRA_INDEX_URL": "ENV_EXTRA"}
    plan = uv.plan(["pip", "install", "--index", "name=http://a/", "torch"], env)
    assert plan.upstreams == ("http://a/", "ENV_EXTRA", "ENV_DEFAULT")
    assert plan.args == ("pip", "install", "torch")
    plan = uv.plan(["pip", "install", "-i", "D", "--extra-index-url", "E", "x"], env)
    assert plan.upstreams == ("E", "D")
    assert not uv.plan(["pip", "list"], env).proxied
    assert not uv.plan(["pip", "install", "--no-index", "x"], env).proxied
    assert uv.plan(["pip", "install", "x"], {}).upstreams == (uv.PYPI,)
    plan = uv.plan(["--cache-dir", "c", "pip", "-q", "install", "-i", "A", "x"], {})
    assert plan.upstreams == ("A",)
    command, _ = uv.proxied_command(plan, "http://proxy/simple/")
    assert command[1:] == ["--cache-dir", "c", "pip", "-q", "install", "x", "--index-url",
                           "http://proxy/simple/"]  # fmt: skip


def test_own_options_come_before_the_installer_arguments() -> None:
    assert split_options(["--profile", "h100.toml", "install", "torch"]) == WrapperOptions(
        "h100.toml", (), ["install", "torch"]
    )
    assert split_options(["--profile=a.toml", "pip", "install"]) == WrapperOptions(
        "a.toml", (), ["pip", "install"]
    )
    assert split_options(["install", "--profile", "x"]) == WrapperOptions(
        None, (), ["install", "--profile", "x"]
    )
    assert split_options(
        ["--index-family", "pytorch=http://m/whl/", "--profile", "p.toml", "--index-family=f.toml",
         "install", "--index-family", "x"]
    ) == WrapperOptions(
        "p.toml", ("pytorch=http://m/whl/", "f.toml"), ["install", "--index-family", "x"]
    )  # fmt: skip


# --- real installs ------------------------------------------------------------------------


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("installer", ["pip", "uv"])
@pytest.mark.parametrize("profile", sorted(OVERRIDES))
def test_install_gets_the_build_for_the_profile(
    served: Served, tmp_path: Path, installer: str, profile: str
) -> None:
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES[profile])
    if installer == "pip":
        args = ["pip", "--python", str(python), "install", "-i", served.url, *PACKAGES]
    else:
        args = ["uv", "pip", "install", "--python", str(python), "-i", served.url, *PACKAGES]
    result = run(args, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_label(python, "torchlike") == EXPECTED_TORCH[profile]
    assert installed_label(python, "visionlike") == EXPECTED_TORCH[profile]
    level = "v2" if profile == "cpu_v2" else None
    if level is not None:
        assert installed_label(python, "fastmath") == level
    # Every variant build handed to the installer is named, after it finished (stderr).
    said = [line for line in result.stderr.splitlines() if line.startswith("fitwheel: ")]
    label = EXPECTED_TORCH[profile]
    assert f"fitwheel: torchlike 2.10.0 -> {label} (" in "\n".join(said), result.stderr
    assert f"fitwheel: visionlike 0.25.0 -> {label} (" in "\n".join(said), result.stderr
    if profile == "pascal_cu128":
        (torch,) = [line for line in said if line.startswith("fitwheel: torchlike")]
        assert torch.endswith(
            "-> cuda12.6 (cuda12.8 does not fit: no supported nvidia :: sm_arch)"
        ), torch
    assert (next(python.parent.parent.glob("lib/python*/site-packages")) / "sdistonly.py").exists()


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("where", ["installer's -q", "fitwheel -q", "fitwheel -v"])
def test_quiet_and_verbose_flags_of_the_wrapper_and_of_the_installer(
    served: Served, tmp_path: Path, where: str
) -> None:
    """`fitwheel pip install -q`: the installer's quiet also silences fitwheel's chosen-build
    line; `fitwheel -q pip install`: fitwheel's alone (pip still talks); `fitwheel -v pip
    install`: the proxy's line per request too."""
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    install = ["install", "--no-deps", "-i", served.url, "torchlike"]
    if where == "installer's -q":
        install.insert(1, "-q")
    ours = {"fitwheel -q": ["-q"], "fitwheel -v": ["-v"]}.get(where, [])
    result = run([*ours, "pip", "--python", str(python), *install], env)
    assert result.returncode == 0, result.stderr
    assert installed_label(python, "torchlike") == "cuda12.8"
    said = [line for line in result.stderr.splitlines() if line.startswith("fitwheel:")]
    if where == "fitwheel -v":
        assert said[-1].startswith("fitwheel: torchlike 2.10.0 -> cuda12.8 ("), said
        requests = [line for line in said if re.match(r"fitwheel: GET /", line)]
        assert re.fullmatch(
            r"fitwheel: GET /simple/torchlike/ 200 \d+ B \d+\.\d ms", requests[0]
        ), requests
        assert any(
            re.fullmatch(r"fitwheel: GET /files/torchlike/[0-9a-f]{64}/torchlike-2\.10\.0-py3-none-any"
                         r"\.whl 200 \d+ B \d+\.\d ms build=cuda12\.8", line)
            for line in requests
        ), requests  # fmt: skip
    else:
        assert said == []
    assert ("Successfully installed torchlike" in result.stdout) is (where != "installer's -q")


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("how", ["pip --profile", "uv FITWHEEL_PROFILE"])
def test_profile_file_installs_for_another_machine(
    served: Served, tmp_path: Path, how: str
) -> None:
    profile = detect_profile(tmp_path / "hopper.json", OVERRIDES["hopper_cu130"])
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["cpu"])  # this machine: no GPU
    if how == "pip --profile":
        args = ["pip", "--profile", str(profile), "--python", str(python), "install",
                "--no-deps", "-i", served.url, "torchlike"]  # fmt: skip
    else:
        env["FITWHEEL_PROFILE"] = str(profile)
        args = ["uv", "pip", "install", "--python", str(python), "--no-deps", "-i", served.url,
                "torchlike"]  # fmt: skip
    result = run(args, env)
    assert result.returncode == 0, result.stderr
    assert installed_label(python, "torchlike") == "cuda13.0"


def _chosen_hash(served: Served, label: str) -> str:
    wheel = served.out / "torchlike" / f"torchlike-2.10.0-py3-none-any-{label}.whl"
    return hashlib.sha256(wheel.read_bytes()).hexdigest()


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_require_hashes_through_the_proxy(served: Served, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"torchlike==2.10.0 --hash=sha256:{_chosen_hash(served, 'cuda12.8')}\n")
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    args = ["pip", "--python", str(python), "install", "--no-deps", "--require-hashes",
            "-r", str(requirements), "-i", served.url]  # fmt: skip
    result = run(args, env)
    assert result.returncode == 0, result.stderr
    assert installed_label(python, "torchlike") == "cuda12.8"


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_hashes_pinned_for_another_machine_fail_with_a_hint(served: Served, tmp_path: Path) -> None:
    """Hashed requirements written on an Ampere machine, installed on a CPU-only one: pip
    refuses the other build's bytes, and the wrapper says why a mismatch happens here."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"torchlike==2.10.0 --hash=sha256:{_chosen_hash(served, 'cuda12.8')}\n")
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    args = ["pip", "--python", str(python), "install", "--no-deps", "-r", str(requirements),
            "-i", served.url]  # fmt: skip
    result = run(args, env)
    assert result.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.stderr
    (hint,) = [line for line in result.stderr.splitlines() if line.startswith("fitwheel: hint:")]
    assert "the pinned hashes name another machine's build" in hint
    assert "this machine gets torchlike null." in hint, hint
    assert installed_label_or_none(python, "torchlike") is None


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_truncated_upstream_file_fails_the_hash_check(
    served: Served, tmp_path: Path, installer: str
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(served.out, copy)
    wheel = copy / "torchlike" / "torchlike-2.10.0-py3-none-any-cuda12.8.whl"
    wheel.write_bytes(wheel.read_bytes()[:-100])
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, {**OVERRIDES["ampere_cu128"], "UV_HTTP_RETRIES": "0"})
    with start_nginx(copy, tmp_path) as nginx:
        if installer == "pip":
            args = ["pip", "--python", str(python), "install", "--no-deps", "-i", nginx.url,
                    "torchlike"]  # fmt: skip
        else:
            args = ["uv", "pip", "install", "--python", str(python), "--no-deps", "-i",
                    nginx.url, "torchlike"]  # fmt: skip
        result = run(args, env)
    assert result.returncode != 0
    output = (result.stdout + result.stderr).lower()
    # pip checks the sha256 of the whole download; uv unpacks while it downloads, so the
    # broken archive stops it (before its own hash check) with a zip error.
    assert ("hash" if installer == "pip" else "zip") in output, output
    assert not list((python.parent.parent / "lib").glob("python*/site-packages/torchlike*"))


@pytest.mark.slow
@pytest.mark.e2e
def test_sigterm_reaches_the_installer(tmp_path: Path) -> None:
    """pip waits on the proxy, which waits on an upstream that never answers: SIGTERM to
    `fitwheel pip` stops pip, and fitwheel exits with pip's status."""
    import signal
    import time

    from helpers.servers import hanging_server

    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    with hanging_server() as url:
        process = subprocess.Popen(
            [*FITWHEEL, "pip", "--python", str(python), "install", "-i", url, "torchlike"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # pip's "Looking in indexes: ..."
            assert "Looking in indexes" in line, line
            time.sleep(0.5)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            status = process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert status == 128 + signal.SIGTERM
    assert time.monotonic() - started < 5


@pytest.mark.slow
@pytest.mark.e2e
def test_unreachable_upstream_gives_one_clear_error_line(tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    args = ["pip", "--python", str(python), "install", "--retries", "0",
            "-i", "http://127.0.0.1:9/simple/", "torchlike"]  # fmt: skip
    result = run(args, env)
    assert result.returncode != 0
    ours = [x for x in result.stderr.splitlines() if x.startswith("fitwheel: error:")]
    assert len(ours) == 1, result.stderr
    assert "http://127.0.0.1:9/simple/" in ours[0] and "connect" in ours[0].lower()


@pytest.mark.slow
def test_a_bad_profile_stops_the_installer_and_says_why(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    missing = tmp_path / "missing.toml"
    args = ["pip", "--profile", str(missing), "install", "-i", "http://127.0.0.1:9/simple/", "x"]
    result = run(args, env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("fitwheel: error:")
    assert str(missing) in result.stderr


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_an_index_that_needs_credentials(served: Served, tmp_path: Path, installer: str) -> None:
    # The credentials are in the index URL the user gives; every file of that index (variant
    # or not) then comes through the proxy, which alone knows them: the pages the installer
    # reads never carry them.
    site = basic_auth_site(tmp_path, "fleet", "s3cret")
    with start_nginx(served.out, tmp_path, site_config=site) as nginx:
        index = nginx.url.replace("http://", "http://fleet:s3cret@")
        python = fresh_venv(tmp_path / "venv")
        env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
        if installer == "pip":
            args = ["pip", "--python", str(python), "install", "-i", index, *PACKAGES]
        else:
            args = ["uv", "pip", "install", "--python", str(python), "-i", index, *PACKAGES]
        result = run(args, env)
        log = "\n".join(nginx.requests())
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_label(python, "torchlike") == EXPECTED_TORCH["ampere_cu128"]
    assert "s3cret" not in result.stdout + result.stderr
    assert " 401 " not in log, log


def installed_label_or_none(python: Path, dist: str) -> str | None:
    return None if installed_dist_info(python, dist) is None else installed_label(python, dist)
