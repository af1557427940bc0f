"""`--index-url` naming one flat HTML page of links (pip's `--find-links URL`), served by nginx,
and the same page as a local file: each project's files are picked out by their names."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fitwheel.index.build import build_index
from fitwheel.index.html import is_links_page
from helpers.catalog import EXPECTED, populate, write_profiles
from helpers.cli import fitwheel
from helpers.nginx import requires_nginx, start_nginx

pytestmark = [requires_nginx, pytest.mark.e2e]


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, Path]]]:
    """(URL of links.html on nginx, its path on disk, profiles)."""
    root = tmp_path_factory.mktemp("links")
    source = populate(root / "src", root / "scratch")
    # The index build writes each release's variants.json; the page links those too.
    build_index(source, root / "built")
    www = root / "www"
    (www / "files").mkdir(parents=True)
    anchors = [
        '<a href="../">parent folder</a>',
        '<a href="https://example.org/other/">another index</a>',
        '<a href="files/README.txt">README.txt</a>',
    ]
    for path in sorted((root / "built").glob("*/*")):
        if path.suffix == ".metadata" or path.name.startswith("index."):
            continue
        data = path.read_bytes()
        (www / "files" / path.name).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        anchors.append(f'<a href="files/{path.name}#sha256={digest}">{path.name}</a>')
    (www / "links.html").write_text(
        "<!DOCTYPE html>\n<html><body>\n" + "<br/>\n".join(anchors) + "\n</body></html>\n"
    )
    with start_nginx(www, root) as server:
        yield server.url + "links.html", www / "links.html", write_profiles(root / "profiles")


def _explain(index_url: str, project: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return fitwheel(
        "explain", project, "--index-url", index_url, "--profile", str(profile), "--format", "json"
    )


@pytest.mark.parametrize("where", ["http", "file"])
@pytest.mark.parametrize("profile_name", ["h100", "gtx1080ti", "cpu"])
def test_choices_from_a_links_page(
    links: tuple[str, Path, dict[str, Path]], where: str, profile_name: str
) -> None:
    url, path, profiles = links
    index_url = url if where == "http" else str(path)
    for project in ("torchlike", "xlevel"):
        result = _explain(index_url, project, profiles[profile_name])
        assert result.returncode == 0, result.stderr
        releases = json.loads(result.stdout)["releases"]
        newest = releases[0]
        assert newest["chosen"]["label"] == EXPECTED[(project, profile_name)]
        listed = [newest["chosen"]["filename"]] + [r["filename"] for r in newest["rejected"]]
        assert all(name.startswith(f"{project}-") for name in listed)
        if where == "http":
            assert newest["chosen"]["url"].startswith(url.rsplit("/", 1)[0] + "/files/")


def test_a_project_the_page_does_not_link(links: tuple[str, Path, dict[str, Path]]) -> None:
    url, _, profiles = links
    result = _explain(url, "nosuchproject", profiles["cpu"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"fitwheel: error: {url}: the page links no file of project 'nosuchproject'" in (
        result.stderr
    )


def test_a_missing_links_page(links: tuple[str, Path, dict[str, Path]]) -> None:
    url, _, profiles = links
    missing = url.replace("links.html", "nothere.html")
    result = _explain(missing, "xlevel", profiles["cpu"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{missing}: not found (HTTP 404)" in result.stderr


def test_only_html_page_urls_are_links_pages() -> None:
    assert is_links_page("https://host/find/links.html")
    assert is_links_page("https://host/find/LINKS.HTM?x=1")
    assert not is_links_page("https://host/simple/")
    assert not is_links_page("https://host/simple")
