"""Rendering project and root pages as PEP 503 HTML and PEP 691 JSON (API version 1.1)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import Any

from fitwheel.index.filenames import classify
from fitwheel.index.model import IndexFile, ProjectPage

API_VERSION = "1.1"


def _hash_fragment(file: IndexFile) -> str:
    if "sha256" in file.hashes:
        return f"#sha256={file.hashes['sha256']}"
    for algorithm, digest in sorted(file.hashes.items()):
        return f"#{algorithm}={digest}"
    return ""


def _metadata_attribute(file: IndexFile) -> str:
    if file.core_metadata is False:
        return ""
    if file.core_metadata is True:
        value = "true"
    else:
        value = next((f"{a}={d}" for a, d in sorted(file.core_metadata.items())), "true")
    # Both spellings: PEP 714's name and PEP 658's, which older pip versions read.
    return f' data-core-metadata="{value}" data-dist-info-metadata="{value}"'


def html_project_page(page: ProjectPage) -> bytes:
    """The PEP 503 page: one anchor per file with hash, requires-python, yanked, metadata."""
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">',
        f"    <title>Links for {escape(page.name)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>Links for {escape(page.name)}</h1>",
    ]
    for file in page.files:
        attributes = f'href="{escape(file.url + _hash_fragment(file))}"'
        if file.requires_python:
            attributes += f' data-requires-python="{escape(file.requires_python)}"'
        if file.is_yanked:
            attributes += f' data-yanked="{escape(file.yanked_reason or "")}"'
        attributes += _metadata_attribute(file)
        lines.append(f"    <a {attributes}>{escape(file.filename)}</a><br/>")
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode()


def _json_file(file: IndexFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": file.filename,
        "url": file.url,
        "hashes": dict(file.hashes),
    }
    if file.requires_python:
        entry["requires-python"] = file.requires_python
    if file.core_metadata is not False:
        metadata = file.core_metadata if file.core_metadata is True else dict(file.core_metadata)
        entry["core-metadata"] = metadata
        entry["dist-info-metadata"] = metadata
    entry["yanked"] = file.yanked
    if file.size is not None:
        entry["size"] = file.size
    if file.upload_time is not None:
        entry["upload-time"] = file.upload_time
    return entry


def json_project_page(page: ProjectPage) -> bytes:
    """The PEP 691 page, with PEP 700 `versions` and sizes. An HTML upstream lists no
    versions: they are then those of the page's distribution filenames, oldest first."""
    document = {
        "meta": {"api-version": API_VERSION},
        "name": page.name,
        "files": [_json_file(f) for f in page.files],
        "versions": list(page.versions) or _versions_of(page),
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


def _versions_of(page: ProjectPage) -> list[str]:
    versions = set()
    for file in page.files:
        name = classify(file.filename, page.name)
        if name is not None:
            versions.add(name.version)
    return [str(v) for v in sorted(versions)]


def html_root_page(projects: Iterable[str]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">',
        "    <title>Simple index</title>",
        "  </head>",
        "  <body>",
    ]
    lines += [f'    <a href="{escape(name)}/">{escape(name)}</a><br/>' for name in projects]
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode()


def json_root_page(projects: Iterable[str]) -> bytes:
    document = {
        "meta": {"api-version": API_VERSION},
        "projects": [{"name": name} for name in projects],
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"
