"""The documentation site builds with `mkdocs build --strict`: no broken link, no missing page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_readme_home_the_command_reference_and_pictures(
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
    # The pictures are drawn at build time, and the pages show them.
    pictures = tmp_path / "site" / "pictures"
    heatmap = (pictures / "families-heatmap.svg").read_text()
    assert heatmap.startswith("<svg ")
    for label in ("cu126", "cu128", "cu130", "rocm7.1", "xpu", "cpu"):
        assert f'class="build">{label}</text>' in heatmap
    assert "GTX 1080 Ti (sm 6.1), CUDA 12.8 driver, torch 2.11.0: cu126 (" in heatmap
    flow = (pictures / "architecture-flow.svg").read_text()
    for name in ("fitwheel.probe", "fitwheel.select", "fitwheel.serve", "fitwheel.runtime"):
        assert f'class="package">{name}</text>' in flow
    families = (tmp_path / "site" / "families" / "index.html").read_text()
    assert 'src="../pictures/families-heatmap.svg"' in families
    architecture = (tmp_path / "site" / "architecture" / "index.html").read_text()
    assert 'src="../pictures/architecture-flow.svg"' in architecture


def test_every_page_in_docs_is_in_the_navigation() -> None:
    """A page left out of mkdocs.yml's nav would be built but unreachable."""
    navigation = (ROOT / "mkdocs.yml").read_text()
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert {p for p in pages if f" {p}" not in navigation} == set()
