"""Writing a `ProjectPage` back out as PEP 691 JSON or PEP 503 HTML (with PEP 592/658/714)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

from fitwheel.index.model import IndexFile, ProjectPage


def _core_metadata(file: IndexFile) -> bool | dict[str, str]:
    if isinstance(file.core_metadata, Mapping):
        return dict(file.core_metadata)
    return bool(file.core_metadata)


def render_json(page: ProjectPage) -> bytes:
    """PEP 691 JSON; api-version 1.1 (PEP 700) when every size is known."""
    complete = all(f.size is not None for f in page.files)
    files: list[dict[str, Any]] = []
    for file in page.files:
        entry: dict[str, Any] = {
            "filename": file.filename,
            "url": file.url,
            "hashes": dict(file.hashes),
        }
        if file.requires_python:
            entry["requires-python"] = file.requires_python
        if file.is_yanked:
            entry["yanked"] = file.yanked
        if file.core_metadata:
            entry["core-metadata"] = entry["dist-info-metadata"] = _core_metadata(file)
        if file.size is not None:
            entry["size"] = file.size
        if file.upload_time is not None:
            entry["upload-time"] = file.upload_time
        files.append(entry)
    document: dict[str, Any] = {
        "meta": {"api-version": "1.1" if complete else "1.0"},
        "name": page.name,
        "files": files,
    }
    if complete:
        document["versions"] = list(page.versions)
    return json.dumps(document, separators=(",", ":")).encode()


def _metadata_attribute(file: IndexFile) -> str:
    if isinstance(file.core_metadata, Mapping):
        return ",".join(f"{k}={v}" for k, v in file.core_metadata.items()) or "true"
    return "true"


def render_html(page: ProjectPage) -> bytes:
    """PEP 503 HTML, api-version 1.0, hashes as URL fragments."""
    lines = [
        "<!DOCTYPE html>",
        "<html><head>",
        '<meta name="pypi:repository-version" content="1.0">',
        f"<title>Links for {escape(page.name)}</title>",
        "</head><body>",
        f"<h1>Links for {escape(page.name)}</h1>",
    ]
    for file in page.files:
        href = file.url
        for algorithm in ("sha256", *sorted(a for a in file.hashes if a != "sha256")):
            if algorithm in file.hashes:
                href += f"#{algorithm}={file.hashes[algorithm]}"
                break
        attributes = [f'href="{escape(href)}"']
        if file.requires_python:
            attributes.append(f'data-requires-python="{escape(file.requires_python)}"')
        if file.is_yanked:
            attributes.append(f'data-yanked="{escape(file.yanked_reason or "")}"')
        if file.core_metadata:
            value = escape(_metadata_attribute(file))
            attributes.append(f'data-core-metadata="{value}"')
            attributes.append(f'data-dist-info-metadata="{value}"')
        lines.append(f"<a {' '.join(attributes)}>{escape(file.filename)}</a><br>")
    lines.append("</body></html>")
    return ("\n".join(lines) + "\n").encode()
