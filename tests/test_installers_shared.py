"""The shared per-user proxy of `fitwheel pip` / `fitwheel uv`: real uv and pip, real nginx,
real `fitwheel serve --shared` processes, a cache folder per test (`clean_env`); the autouse
fixture of `conftest.py` stops every proxy a test started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import Served
from fitwheel.cli.installers import WrapperOptions, split_options
from fitwheel.index.network import NetworkOptions
from fitwheel.installers.shared.client import ask, hello
from fitwheel.installers.shared.key import proxy_key, stable_port
from fitwheel.installers.shared.run import usable_state_dir
from fitwheel.installers.shared.start import idle_exit
from fitwheel.installers.shared.state import (
    ProxyState,
    network_document,
    network_options,
    read_state,
    state_dir,
    write_state,
)
from fitwheel.serve.record import ChosenBuild, Record
from helpers.cli import fitwheel
from helpers.nginx import free_port, requires_nginx
from helpers.serve_fixtures import OVERRIDES, clean_env, detect_profile
from helpers.servers import status_server
from helpers.shared import proxy_processes
from helpers.venvs import fresh_venv, installed_label

FITWHEEL = [sys.executable, "-m", "fitwheel"]


# --- the key, the state file, the record (no processes) ------------------------------------


def test_the_key_changes_with_what_the_proxy_serves(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text("[variants.x86_64]\nlevel = ['v2']\n")
    env = {"FITWHEEL_CUDA_DRIVER": "12.8", "HOME": "/nowhere"}
    base = proxy_key(("http://a/simple/",), str(profile), (), (), env)
    assert base == proxy_key(("http://a/simple/",), str(profile), (), (), {**env, "HOME": "/x"})
    # Settings of the wrapper itself are not part of what is served.
    assert base == proxy_key(
        ("http://a/simple/",), str(profile), (), (), {**env, "FITWHEEL_PROXY_IDLE_EXIT": "5"}
    )
    others = {
        proxy_key(("http://b/simple/",), str(profile), (), (), env),
        proxy_key(("http://a/simple/", "http://b/"), str(profile), (), (), env),
        proxy_key(("http://a/simple/",), None, (), (), env),
        proxy_key(("http://a/simple/",), str(profile), ("pytorch",), (), env),
        proxy_key(("http://a/simple/",), str(profile), (), ("pytorch",), env),
        proxy_key(("http://a/simple/",), str(profile), (), (), {"FITWHEEL_CUDA_DRIVER": "13.0"}),
    }
    others.add(
        proxy_key(("http://a/simple/",), str(profile), (), (), env, {"proxy": "http://p:3128"})
    )
    profile.write_text("[variants.x86_64]\nlevel = ['v3']\n")
    others.add(proxy_key(("http://a/simple/",), str(profile), (), (), env))
    assert base not in others and len(others) == 8


def test_network_options_travel_through_the_state_file(tmp_path: Path) -> None:
    network = NetworkOptions(
        cert="/etc/ca.pem",
        proxy="http://proxy.internal:3128",
        proxies=(("https", "http://other:3128"),),
        no_proxy=("localhost", "10.0.0.0/8"),
        trusted_hosts=("mirror:8443",),
        keyring_provider="subprocess",
    )
    write_state(tmp_path, _state(20000, network=network_document(network)))
    state = read_state(tmp_path / "k.json")
    assert state is not None and network_options(state.network) == network
    assert network_options(None) is None


def test_the_stable_port_is_per_user_and_key() -> None:
    port = stable_port("k1", 1000)
    assert port == stable_port("k1", 1000)
    assert 15000 <= port < 32000
    assert len({stable_port(f"k{n}", 1000) for n in range(50)} | {stable_port("k1", 1001)}) > 40


def _state(port: int, **changes: object) -> ProxyState:
    fields: dict[str, object] = {
        "key": "k",
        "port": port,
        "secret": "00" * 32,
        "fitwheel": "0",
        "upstreams": ("http://u:pw@example.org/simple/",),
        "profile_source": "detected",
        "profile_file": "/nonexistent",
        "families": (),
        "default_families": (),
        "network": None,
        "exit_when_idle": 900.0,
        "fd": 3,
        "pid": 999999,
        **changes,
    }
    return ProxyState(**fields)  # type: ignore[arg-type]


def test_state_files_round_trip_and_garbage_is_no_state(tmp_path: Path) -> None:
    state = _state(20000)
    write_state(tmp_path, state)
    assert read_state(tmp_path / "k.json") == state
    for garbage in (b"", b"[]", b'{"format": 1}', b'{"format": 9, "key": "k"}', b"\xff"):
        (tmp_path / "bad.json").write_bytes(garbage)
        assert read_state(tmp_path / "bad.json") is None
    assert read_state(tmp_path / "missing.json") is None


def test_an_unusable_cache_folder_means_an_ephemeral_proxy(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    assert usable_state_dir({"FITWHEEL_CACHE_DIR": str(tmp_path / "file" / "below")}) is None
    directory = usable_state_dir({"FITWHEEL_CACHE_DIR": str(tmp_path / "cache")})
    assert directory == state_dir({"FITWHEEL_CACHE_DIR": str(tmp_path / "cache")})
    assert directory is not None and directory.stat().st_mode & 0o777 == 0o700


def test_the_idle_setting_is_checked() -> None:
    assert idle_exit({}) == 900.0
    assert idle_exit({"FITWHEEL_PROXY_IDLE_EXIT": "2.5"}) == 2.5
    for bad in ("0", "-1", "soon", "nan"):
        with pytest.raises(Exception, match="FITWHEEL_PROXY_IDLE_EXIT"):
            idle_exit({"FITWHEEL_PROXY_IDLE_EXIT": bad})


def test_ephemeral_is_one_of_our_leading_options() -> None:
    assert split_options(["--ephemeral", "--profile", "p.toml", "install", "x"]) == (
        WrapperOptions("p.toml", (), ["install", "x"], ephemeral=True)
    )
    assert not split_options(["install", "--ephemeral"]).ephemeral


def test_the_record_answers_what_came_after_a_number() -> None:
    record = Record(kept=3)
    first = ChosenBuild("torch", "2.9", "cu126", "why")
    record.handed_out(first)
    start = record.seq
    record.failed("upstream X failed: 503")
    record.handed_out(ChosenBuild("torch", "2.9", "cu128", "why"))
    record.handed_out(ChosenBuild("numpy", "2.0", "v3", "why"))
    since = record.since(start)
    assert since.seq == 4
    assert [str(b) for b in since.chosen] == ["numpy 2.0 -> v3 (why)", "torch 2.9 -> cu128 (why)"]
    assert since.failure == "upstream X failed: 503"
    assert record.since(4).chosen == () and record.since(4).failure is None
    assert record.since(0).chosen[1].label == "cu128"  # the oldest event is gone (kept=3)


def test_a_port_that_is_not_our_proxy_is_never_trusted() -> None:
    with status_server(200) as server:  # answers 200 with HTML to everything
        port = int(server.url.split(":")[2].split("/")[0])
        assert ask(port, "/-/fitwheel", 5) is None
        assert hello(_state(port), 5) is None
    assert hello(_state(free_port()), 5) is None  # nobody listening: at once


# --- the CLI ---------------------------------------------------------------------------------


def test_status_and_stop_are_one_or_the_other(tmp_path: Path) -> None:
    result = fitwheel("serve", "--status", "--stop", env=clean_env(tmp_path))
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_status_and_stop_with_no_proxy_and_a_stale_state_file(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    result = fitwheel("serve", "--status", env=env, check=True)
    assert result.stdout.startswith("no shared proxy")
    assert json.loads(fitwheel("serve", "--status", "--format", "json", env=env).stdout) == []
    directory = tmp_path / "fitwheel-cache" / "proxies"
    directory.mkdir(parents=True)
    port = free_port()
    write_state(directory, _state(port))  # its process is long gone, nothing at its port
    (status,) = json.loads(fitwheel("serve", "--status", "--format", "json", env=env).stdout)
    assert status["running"] is False and status["pid"] == 999999
    assert status["upstreams"] == ["http://example.org/simple/"]  # no credentials shown
    text = fitwheel("serve", "--status", env=env).stdout
    assert text.startswith(f"stale: http://127.0.0.1:{port}/simple/ (pid 999999")
    result = fitwheel("serve", "--stop", env=env, check=True)
    assert "removed the stale state" in result.stdout
    assert not (directory / "k.json").exists()


@pytest.mark.slow
def test_serve_exits_by_itself_when_idle(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    port = free_port()
    started = time.monotonic()
    result = subprocess.run(
        [*FITWHEEL, "serve", "--upstream", str(tmp_path / "index"), "--port", str(port),
         "--exit-when-idle", "1.5"],
        env=clean_env(tmp_path, OVERRIDES["cpu"]), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 1.5


# --- real installs through the shared proxy ---------------------------------------------------


def _install(
    installer: str, served: Served, python: Path, env: dict[str, str], *own: str
) -> subprocess.CompletedProcess[str]:
    if installer == "pip":
        args = ["pip", *own, "--python", str(python), "install", "--no-deps", "-i", served.url,
                "torchlike"]  # fmt: skip
    else:
        args = ["uv", *own, "pip", "install", "--python", str(python), "--no-deps", "-i",
                served.url, "torchlike"]  # fmt: skip
    result = fitwheel(*args, env=env, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _proxies(env: dict[str, str]) -> list[dict[str, object]]:
    status = fitwheel("serve", "--status", "--format", "json", env=env, check=True)
    found: list[dict[str, object]] = json.loads(status.stdout)
    return found


def _cache_dir(env: dict[str, str]) -> Path:
    return Path(env["FITWHEEL_CACHE_DIR"])


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_three_runs_share_one_proxy_and_the_installers_cache(
    served: Served, tmp_path: Path, installer: str
) -> None:
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    env.pop("PIP_NO_CACHE_DIR")
    env["PIP_CACHE_DIR"] = str(tmp_path / "pip-cache")
    pids, urls = [], []
    for run in range(3):
        python = fresh_venv(tmp_path / f"venv{run}")
        result = _install(installer, served, python, env)
        assert installed_label(python, "torchlike") == "cuda12.8"
        (proxy,) = _proxies(env)
        assert proxy["running"] is True
        pids.append(proxy["pid"])
        urls.append(proxy["url"])
        # Named on every run, a build from the installer's cache too (read back from the
        # environment: no file request reached the proxy then).
        assert "fitwheel: torchlike 2.10.0 -> cuda12.8 (" in result.stderr, result.stderr
        if run > 0 and installer == "uv":
            # uv names what it downloaded ("Prepared N packages"); nothing was. (pip run with
            # `--python` keeps no HTTP cache here; for it the same URL is what counts.)
            assert "Prepared" not in result.stderr, result.stderr
    assert len(set(pids)) == 1 and len(set(urls)) == 1
    assert proxy_processes(_cache_dir(env)) == pids[:1]


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_another_profile_gets_its_own_proxy_and_its_own_build(
    served: Served, tmp_path: Path
) -> None:
    gpu = detect_profile(tmp_path / "gpu.json", OVERRIDES["ampere_cu128"])
    cpu = detect_profile(tmp_path / "cpu.json", OVERRIDES["cpu"])
    env = clean_env(tmp_path, OVERRIDES["cpu"])
    first = fresh_venv(tmp_path / "first")
    _install("uv", served, first, env, "--profile", str(gpu))
    second = fresh_venv(tmp_path / "second")
    _install("uv", served, second, env, "--profile", str(cpu))
    assert installed_label(first, "torchlike") == "cuda12.8"
    assert installed_label(second, "torchlike") == "null"
    proxies = _proxies(env)
    assert len(proxies) == 2 and all(p["running"] for p in proxies)
    assert len({p["pid"] for p in proxies}) == 2 and len({p["url"] for p in proxies}) == 2
    assert sorted(str(p["profile"]) for p in proxies) == [f"profile {cpu}", f"profile {gpu}"]
    # The same profile file with other content is another proxy too.
    gpu.write_bytes(cpu.read_bytes())
    third = fresh_venv(tmp_path / "third")
    _install("uv", served, third, env, "--profile", str(gpu))
    assert installed_label(third, "torchlike") == "null"
    assert len(_proxies(env)) == 3


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_concurrent_first_runs_start_exactly_one_proxy(served: Served, tmp_path: Path) -> None:
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    venvs = [fresh_venv(tmp_path / f"venv{n}") for n in range(4)]
    processes = [
        subprocess.Popen(
            [
                *FITWHEEL,
                "uv",
                "pip",
                "install",
                "--python",
                str(python),
                "--no-deps",
                "-i",
                served.url,
                "torchlike",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for python in venvs
    ]
    outputs = [p.communicate(timeout=240)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    assert all(installed_label(python, "torchlike") == "cuda12.8" for python in venvs)
    (proxy,) = _proxies(env)
    assert proxy_processes(_cache_dir(env)) == [proxy["pid"]]


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_a_killed_proxy_is_replaced_on_the_same_port(served: Served, tmp_path: Path) -> None:
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    _install("uv", served, fresh_venv(tmp_path / "first"), env)
    (before,) = _proxies(env)
    pid = before["pid"]
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)  # no chance to remove its state file
    deadline = time.monotonic() + 10
    while pid in proxy_processes(_cache_dir(env)) and time.monotonic() < deadline:
        time.sleep(0.05)
    (stale,) = _proxies(env)
    assert stale["running"] is False and stale["pid"] == pid
    second = fresh_venv(tmp_path / "second")
    result = _install("uv", served, second, env)
    assert installed_label(second, "torchlike") == "cuda12.8"
    (after,) = _proxies(env)
    assert after["running"] is True and after["pid"] != pid
    assert after["url"] == before["url"]  # the stable port: uv's cache still hits
    assert "Prepared" not in result.stderr, result.stderr


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_a_stale_port_taken_by_a_silent_listener_is_not_trusted(
    served: Served, tmp_path: Path
) -> None:
    """The proxy died and something else now listens on its port without answering: the next
    run waits for it only briefly, then starts a proxy on another port."""
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    _install("uv", served, fresh_venv(tmp_path / "first"), env)
    (before,) = _proxies(env)
    pid, url = before["pid"], str(before["url"])
    assert isinstance(pid, int)
    port = int(url.split(":")[2].split("/")[0])
    key = str(before["key"])
    assert port == stable_port(key, os.getuid())
    os.kill(pid, signal.SIGKILL)
    while pid in proxy_processes(_cache_dir(env)):
        time.sleep(0.05)
    state_file = _cache_dir(env) / "proxies" / f"{key}.json"
    state = read_state(state_file)
    assert state is not None
    write_state(state_file.parent, replace(state, started=time.time() - 3600))  # long settled
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:  # the killed process's socket goes with its last reference
            try:
                squatter.bind(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < deadline, f"port {port} stays taken"
                time.sleep(0.1)
        squatter.listen(16)  # accepts into the backlog, never answers
        started = time.monotonic()
        second = fresh_venv(tmp_path / "second")
        _install("uv", served, second, env)
        took = time.monotonic() - started
    assert installed_label(second, "torchlike") == "cuda12.8"
    (after,) = _proxies(env)
    assert after["running"] is True and after["pid"] != pid and after["url"] != url
    assert took < 30, took


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_the_proxy_leaves_when_idle_and_stop_stops_it(served: Served, tmp_path: Path) -> None:
    env = clean_env(tmp_path, {**OVERRIDES["ampere_cu128"], "FITWHEEL_PROXY_IDLE_EXIT": "2"})
    _install("pip", served, fresh_venv(tmp_path / "first"), env)
    (proxy,) = _proxies(env)
    assert proxy["exit_when_idle"] == 2.0
    deadline = time.monotonic() + 30
    while proxy_processes(_cache_dir(env)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proxy_processes(_cache_dir(env)) == []
    assert _proxies(env) == []  # it removed its own state file
    # Started again by the next run; `--stop` ends it and says so.
    env["FITWHEEL_PROXY_IDLE_EXIT"] = "900"
    _install("pip", served, fresh_venv(tmp_path / "second"), env)
    (proxy,) = _proxies(env)
    text = fitwheel("serve", "--status", env=env, check=True).stdout
    assert text.startswith(f"{proxy['url']}  pid {proxy['pid']}  idle ")
    assert f"  upstreams: {served.url}\n" in text and "  profile: detected\n" in text
    stopped = fitwheel("serve", "--stop", env=env, check=True).stdout
    assert stopped == f"fitwheel serve: stopped {proxy['url']} (pid {proxy['pid']})\n"
    assert proxy_processes(_cache_dir(env)) == []
    assert _proxies(env) == []


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_ephemeral_runs_leave_no_proxy(served: Served, tmp_path: Path) -> None:
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    result = _install("uv", served, fresh_venv(tmp_path / "a"), env, "--ephemeral")
    assert "fitwheel: torchlike 2.10.0 -> cuda12.8 (" in result.stderr
    env["FITWHEEL_EPHEMERAL"] = "1"
    _install("pip", served, fresh_venv(tmp_path / "b"), env)
    assert _proxies(env) == [] and proxy_processes(_cache_dir(env)) == []
