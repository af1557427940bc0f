"""Indexes the installers read outside the command line: pip requirements files, uv config.

pip and uv themselves are the oracles for what they would read; the wrapper must route every
such index through the proxy, or stop with one error line, never let one bypass it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Served
from fitwheel.installers import UnroutableIndex, pip, uv
from fitwheel.installers.uv_config import config_files, configured_indexes
from helpers.cli import fitwheel
from helpers.nginx import requires_nginx
from helpers.serve_fixtures import OVERRIDES, clean_env
from helpers.venvs import fresh_venv, installed_dist_info, installed_label

FITWHEEL = [sys.executable, "-m", "fitwheel"]
DEAD = "http://127.0.0.1:9/simple/"


@pytest.fixture(scope="module")
def nginx_url(served: Served) -> str:
    return served.url


def run(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return fitwheel(*args, env=env, cwd=cwd, timeout=240)


# --- pip: requirements and constraints files ---------------------------------------------


@pytest.mark.slow
def test_pip_plan_agrees_with_pip_on_index_lines_in_requirements_files(tmp_path: Path) -> None:
    """pip reads constraints first, then each -r in order, nested files where they appear; a
    file's --index-url replaces the command line's. pip's "Looking in indexes:" line is the
    oracle."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "constraints.txt").write_text("--extra-index-url http://127.0.0.1:9/c/\n")
    (tmp_path / "sub" / "inner.txt").write_text(
        "# a comment --index-url http://127.0.0.1:9/not-this/\n"
        "--extra-index-url \\\n    http://127.0.0.1:9/${FW_TEST_PART}/\n"
    )
    (tmp_path / "requirements.txt").write_text(
        "--index-url http://127.0.0.1:9/a/\n-r sub/inner.txt\nnothing-here  # no index line\n"
    )
    env = {**clean_env(tmp_path), "FW_TEST_PART": "b"}
    args = ["download", "--retries", "0", "-d", str(tmp_path / "dl"), "-i", "http://127.0.0.1:9/cli/",
            "-c", str(tmp_path / "constraints.txt"), "-r", str(tmp_path / "requirements.txt")]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args], env=env, capture_output=True, text=True, timeout=120
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("Looking in indexes:"))
    pip_says = tuple(u.strip() for u in line.partition(":")[2].split(","))
    assert pip_says == ("http://127.0.0.1:9/a/", "http://127.0.0.1:9/b/")
    plan = pip.plan(args, env)
    assert plan.upstreams == pip_says
    assert plan.reads_files


def test_pip_plan_follows_no_index_in_a_file_and_refuses_remote_files(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    (tmp_path / "offline.txt").write_text("--no-index\n--index-url http://127.0.0.1:9/x/\nfoo\n")
    assert not pip.plan(["install", "-r", str(tmp_path / "offline.txt")], env).proxied
    plain = pip.plan(["install", "-i", "A", "foo"], env)
    assert not plain.reads_files  # no files: no extra requirements file is added
    with pytest.raises(UnroutableIndex, match="remote"):
        pip.plan(["install", "-r", "https://example.invalid/requirements.txt"], env)


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_pip_index_url_in_a_requirements_file_goes_through_the_proxy(
    nginx_url: str, tmp_path: Path
) -> None:
    """Without the wrapper's last file pip would take nginx's page directly (the plain
    fallback build, or fail on the dead command-line index); through the proxy the profile's
    build is installed."""
    (tmp_path / "nested.txt").write_text(f"--index-url {nginx_url}\n")
    (tmp_path / "requirements.txt").write_text("-r nested.txt\ntorchlike\n")
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    args = ["pip", "--python", str(python), "install", "--no-deps", "--retries", "0",
            "-i", DEAD, "-r", str(tmp_path / "requirements.txt")]  # fmt: skip
    result = run(args, env)
    assert result.returncode == 0, result.stdout + result.stderr
    looking = next(x for x in result.stdout.splitlines() if x.startswith("Looking in indexes:"))
    assert nginx_url not in looking and DEAD not in looking, looking
    assert installed_label(python, "torchlike") == "cuda12.8"


# --- uv: uv.toml / pyproject.toml --------------------------------------------------------


def test_uv_config_indexes_that_the_proxy_can_replace(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('index-url = "http://user/"\n[[index]]\nname = "u"\nurl = "http://u/"\n')
    project = tmp_path / "pyproject.toml"
    project.write_text(
        '[project]\nname = "x"\nversion = "0"\n[tool.uv.pip]\nindex-url = "http://project/"\n'
        '[[tool.uv.index]]\nname = "p"\nurl = "http://p/"\n'
        '[[tool.uv.index]]\nname = "pinned"\nurl = "http://pinned/"\nexplicit = true\n'
    )
    found = configured_indexes([user, project])
    assert found.default == "http://project/"
    assert found.named == (("p", "http://p/"), ("u", "http://u/"))
    assert found.hidden_names == ("pinned",)


@pytest.mark.parametrize(
    "text",
    [
        'extra-index-url = ["http://extra/"]\n',
        '[pip]\nextra-index-url = ["http://extra/"]\n',
        '[[index]]\nurl = "http://extra/"\n',
    ],
)
def test_uv_config_indexes_that_uv_would_add_stop_the_wrapper(tmp_path: Path, text: str) -> None:
    config = tmp_path / "uv.toml"
    config.write_text(text)
    with pytest.raises(UnroutableIndex, match=str(config)):
        configured_indexes([config])


def test_uv_config_files_are_found_as_uv_finds_them(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "repo" / "pkg" / "src"
    (home / ".config" / "uv").mkdir(parents=True)
    (home / ".config" / "uv" / "uv.toml").write_text("")
    work.mkdir(parents=True)
    (tmp_path / "repo" / "pyproject.toml").write_text('[tool.uv]\nindex-url = "http://r/"\n')
    (tmp_path / "repo" / "pkg" / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    env = {"HOME": str(home), "XDG_CONFIG_DIRS": str(tmp_path / "none")}
    assert config_files(["pip", "install", "x"], env, cwd=work) == [
        home / ".config" / "uv" / "uv.toml",
        tmp_path / "repo" / "pyproject.toml",  # the nearer pyproject has no [tool.uv]
    ]
    assert config_files(["--no-config", "pip", "install"], env, cwd=work) == []
    assert config_files(["pip", "install"], {**env, "UV_NO_CONFIG": "1"}, cwd=work) == []
    explicit = ["--config-file", "/x/uv.toml", "pip", "install"]
    assert config_files(explicit, env, cwd=work) == [Path("/x/uv.toml")]
    plan = uv.plan(["pip", "install", "x"], env, cwd=work)
    assert plan.upstreams == ("http://r/",)


def _uv_project(folder: Path, text: str) -> Path:
    folder.mkdir()
    (folder / "uv.toml").write_text(text)
    return folder


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_uv_adds_configured_extra_indexes_to_the_command_lines(
    nginx_url: str, tmp_path: Path
) -> None:
    """The uv behaviour that makes the wrapper refuse such files: with a dead --index-url on
    the command line, uv still installs from the extra index in uv.toml. If this ever fails,
    uv lets the command line replace them and the wrapper could route them instead."""
    from uv import find_uv_bin

    project = _uv_project(tmp_path / "project", f'extra-index-url = ["{nginx_url}"]\n')
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(tmp_path)
    del env["UV_NO_CONFIG"]
    command = [str(find_uv_bin()), "pip", "install", "--python", str(python), "--no-deps",
               "--index-url", DEAD, "typing-shim"]  # fmt: skip
    result = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@requires_nginx
@pytest.mark.slow
@pytest.mark.e2e
def test_uv_configured_indexes_go_through_the_proxy_or_stop_the_wrapper(
    nginx_url: str, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    del env["UV_NO_CONFIG"]
    env["HOME"] = str(tmp_path)  # no user-level uv.toml of this machine
    args = ["uv", "pip", "install", "--python", str(fresh_venv(tmp_path / "venv")), "--no-deps"]

    named = _uv_project(
        tmp_path / "named", f'index-url = "{DEAD}"\n[[index]]\nname = "ours"\nurl = "{nginx_url}"\n'
    )
    result = run([*args, "torchlike"], env, cwd=named)
    assert result.returncode == 0, result.stderr
    assert installed_label(Path(args[4]), "torchlike") == "cuda12.8"

    extra = _uv_project(tmp_path / "extra", f'extra-index-url = ["{nginx_url}"]\n')
    result = run([*args, "typing-shim"], env, cwd=extra)
    assert result.returncode == 2
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.startswith("fitwheel: error:") and str(extra / "uv.toml") in line
    assert installed_dist_info(Path(args[4]), "typing_shim") is None
