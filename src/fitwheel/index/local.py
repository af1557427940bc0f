"""Local indexes: a static simple-index tree on disk, a flat `--find-links` folder of files, or
one HTML page of links."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from packaging.utils import canonicalize_name

from fitwheel.errors import InvalidIndexPage, ProjectNotFound
from fitwheel.index.filenames import is_normalized_name, project_of
from fitwheel.index.html import is_links_page, parse_html_page, parse_links_page
from fitwheel.index.json_api import parse_json_page
from fitwheel.index.model import IndexFile, ProjectPage


def is_local(index_url: str) -> bool:
    """Whether `index_url` names a folder (a path or a `file:` URL) rather than a web index."""
    scheme = urlsplit(index_url).scheme
    return scheme == "file" or len(scheme) <= 1  # "C:" is a drive letter, not a scheme


def local_path(url: str) -> Path:
    if urlsplit(url).scheme == "file":
        return Path(url2pathname(unquote(urlsplit(url).path)))
    return Path(url)


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode()
    except UnicodeDecodeError as exc:
        raise InvalidIndexPage(f"{path}: not UTF-8 ({exc})") from None


def read_local_page(index_url: str, project: str) -> ProjectPage:
    """The project's page from a simple-index tree (`DIR/project/index.json|html`) or a flat folder."""
    root = local_path(index_url).resolve()
    name = canonicalize_name(project)
    if not is_normalized_name(name):
        # `root / name` must stay a folder of the tree: no `..`, no separator.
        raise ProjectNotFound(f"{index_url}: {project!r} is not a valid project name")
    if root.is_file() and is_links_page(root.name):
        page = parse_links_page(_text(root), url=root.as_uri(), project=name)
        if not page.files:
            raise ProjectNotFound(f"{index_url}: the page links no file of project {name!r}")
        return page
    if not root.is_dir():
        raise ProjectNotFound(f"{index_url}: no such folder")
    project_dir = root / name
    for page_name, parse in (("index.json", parse_json_page), ("index.html", None)):
        page_path = project_dir / page_name
        if not page_path.is_file():
            continue
        url = project_dir.as_uri() + "/"
        if parse is not None:
            return parse(page_path.read_bytes(), url=url, project=name)
        return parse_html_page(_text(page_path), url=url, project=name)
    files = tuple(
        IndexFile(filename=path.name, url=path.as_uri(), size=path.stat().st_size)
        for path in sorted(root.iterdir())
        if path.is_file() and project_of(path.name) == name
    )
    if not files:
        raise ProjectNotFound(
            f"{index_url}: no page for project {name!r} (no {name}/index.json or "
            f"{name}/index.html, and no file of it in the folder)"
        )
    return ProjectPage(name=name, url=root.as_uri() + "/", files=files)
