"""The documentation site builds with `mkdocs build --strict`: no broken link, no missing page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_readme_home_and_the_command_reference(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    home = (tmp_path / "site" / "index.html").read_text()
    assert "Two commands on a fresh machine" in home
    assert 'href="detect/"' in home  # the README's docs/detect.md link, rewritten
    commands = (tmp_path / "site" / "commands" / "index.html").read_text()
    assert "fitwheel verify" in commands and "--index-url URL" in commands


def test_every_page_in_docs_is_in_the_navigation() -> None:
    """A page left out of mkdocs.yml's nav would be built but unreachable."""
    navigation = (ROOT / "mkdocs.yml").read_text()
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert {p for p in pages if f" {p}" not in navigation} == set()
