"""docs/publishing.md's recipe, run as written, and the workflow file running the same commands.

The project is a real one with an in-tree PEP 517 backend (`helpers/flagbackend.py`), so the
recipe's isolated `fitwheel build` needs no index; the examples' own tests cover real
compilers. GitHub itself is not tested: the workflow's commands are.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.projects import flag_project

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parent.parent / "docs"
TABLE = """
[variant.default-priorities]
namespace = ["x86_64"]

[variant.variants]
x86_64_v3 = { x86_64 = { level = ["v3"] } }
x86_64_v2 = { x86_64 = { level = ["v2"] } }
null = {}
"""


def recipe() -> list[str]:
    text = (DOCS / "publishing.md").read_text()
    match = re.search(r"<!-- recipe -->\n```sh\n(?P<body>.*?)```", text, re.S)
    assert match is not None, "docs/publishing.md lost its recipe block"
    return [line.strip() for line in match["body"].splitlines() if line.strip()]


def workflow_commands() -> list[str]:
    text = (DOCS / "publish-variants.yml").read_text()
    return [m.strip() for m in re.findall(r"^\s*run: (fitwheel .*)$", text, re.M)]


def shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-ec", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """`fitwheel` on PATH, as after `pip install fitwheel`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "fitwheel"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fitwheel "$@"\n')
    launcher.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FITWHEEL_", "PIP_"))}
    clean["PATH"] = f"{bin_dir}{os.pathsep}{clean.get('PATH', '')}"
    return clean


def test_the_workflow_runs_the_recipe_commands() -> None:
    commands = recipe()
    assert commands[0] == "fitwheel variants check pyproject.toml"
    assert any(c.startswith("fitwheel build --all") for c in commands)
    assert set(commands) <= set(workflow_commands())


def test_the_recipe_publishes_a_checked_index(tmp_path: Path, env: dict[str, str]) -> None:
    project = flag_project(tmp_path / "project", TABLE)
    for command in recipe():
        result = shell(command, project, env)
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    page = project / "public" / "simple" / "flagdemo" / "index.html"
    assert page.is_file()
    links = page.read_text()
    for name in (
        "flagdemo-1.0-py3-none-any-x86_64_v3.whl",
        "flagdemo-1.0-py3-none-any-x86_64_v2.whl",
        "flagdemo-1.0-py3-none-any-null.whl",
        "flagdemo-1.0-variants.json",
    ):
        assert name in links


def test_the_index_job_merges_what_several_jobs_built(tmp_path: Path, env: dict[str, str]) -> None:
    """Two build jobs, each with its own variants.json; copied together, one file survives
    and `variants generate` completes it from the wheels."""
    project = flag_project(tmp_path / "project", TABLE)
    for job, label in (("one", "x86_64_v3"), ("two", "null")):
        result = shell(f"fitwheel build --variant {label} -o {tmp_path / job}", project, env)
        assert result.returncode == 0, result.stderr
    merged = tmp_path / "dist"
    merged.mkdir()
    for job in ("one", "two"):
        for path in (tmp_path / job).iterdir():
            shutil.copyfile(path, merged / path.name)  # the artifact download: last one wins
    before = json.loads((merged / "flagdemo-1.0-variants.json").read_text())
    assert sorted(before["variants"]) == ["null"]
    for command in ("fitwheel variants generate dist", "fitwheel variants check dist"):
        result = shell(command, tmp_path, env)
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    after = json.loads((merged / "flagdemo-1.0-variants.json").read_text())
    assert sorted(after["variants"]) == ["null", "x86_64_v3"]
