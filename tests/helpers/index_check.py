"""An independent check of a built static index: what a client reading it at this instant sees.

`index_problems(out)` returns every disagreement (empty when the index is consistent): each
project the root pages list has both pages; every file each page (HTML and JSON) lists exists
in the project's folder with the listed size and sha256; every PEP 658 sidecar a page
announces exists with the announced sha256. Pages are parsed with fitwheel's own parsers (they
are the reader here), the bytes are hashed here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fitwheel.index.html import parse_html_page
from fitwheel.index.json_api import parse_json_page
from fitwheel.index.model import ProjectPage


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _page_problems(folder: Path, page: ProjectPage, kind: str) -> list[str]:
    problems = []
    for entry in page.files:
        where = f"{folder.name}/{kind}: {entry.filename}"
        parts = urlsplit(entry.url)
        if parts.scheme != "file":
            problems.append(f"{where}: not a relative link ({entry.url})")
            continue
        path = Path(unquote(parts.path))
        if path.parent != folder:
            problems.append(f"{where}: links outside its folder ({entry.url})")
            continue
        if not path.is_file():
            problems.append(f"{where}: missing file")
            continue
        if path.is_symlink():
            problems.append(f"{where}: a symbolic link")
        data = path.read_bytes()
        if entry.size is not None and entry.size != len(data):
            problems.append(f"{where}: size {entry.size} listed, {len(data)} on disk")
        listed = entry.hashes.get("sha256")
        if listed != hashlib.sha256(data).hexdigest():
            problems.append(f"{where}: sha256 {listed} listed, another on disk")
        if isinstance(entry.core_metadata, dict) or entry.core_metadata is True:
            sidecar = path.with_name(path.name + ".metadata")
            if not sidecar.is_file():
                problems.append(f"{where}: missing .metadata sidecar")
            elif entry.core_metadata is not True:
                wanted = entry.core_metadata.get("sha256")
                if wanted != _sha256(sidecar):
                    problems.append(f"{where}: .metadata sha256 disagrees")
    return problems


def index_problems(out: Path) -> list[str]:
    """Every inconsistency a reader of `out` would meet now (empty: consistent)."""
    out = out.resolve()
    if not (out / "index.json").exists() and not (out / "index.html").exists():
        return []  # never published: nothing to be inconsistent
    problems = []
    names = [p["name"] for p in json.loads((out / "index.json").read_bytes())["projects"]]
    html_root = (out / "index.html").read_text()
    for name in names:
        if f'href="{name}/"' not in html_root:
            problems.append(f"{name}: in index.json, not in index.html")
        folder = out / name
        for kind, parse in (("index.json", parse_json_page), ("index.html", None)):
            page_path = folder / kind
            if not page_path.is_file():
                problems.append(f"{name}: listed in the root, no {kind}")
                continue
            url = folder.as_uri() + "/"
            if parse is None:
                page = parse_html_page(page_path.read_text(), url=url, project=name)
            else:
                page = parse(page_path.read_bytes(), url=url, project=name)
            problems += _page_problems(folder, page, kind)
    return problems
