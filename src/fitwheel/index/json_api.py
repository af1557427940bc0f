"""PEP 691 JSON project pages (with PEP 700 versions and PEP 714 core-metadata): strict parsing."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit

from fitwheel.decoding import loads_json
from fitwheel.errors import InvalidIndexPage
from fitwheel.index.html import check_api_version
from fitwheel.index.model import CoreMetadata, IndexFile, ProjectPage

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_CONTENT_TYPE = "application/vnd.pypi.simple.v1+html"


def _fail(where: str, message: str) -> InvalidIndexPage:
    return InvalidIndexPage(f"{where}: malformed JSON project page: {message}")


def _hash_table(value: Any, where: str, key: str) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _fail(where, f"{key} must map hash names to hex digests")
    return MappingProxyType({k: v.lower() for k, v in value.items()})


def _join(base: str, link: str, where: str) -> str:
    try:
        absolute = urljoin(base, link)
        urlsplit(absolute)
    except ValueError as exc:
        raise _fail(where, f"invalid url {link[:100]!r} ({exc})") from None
    return absolute


def _core_metadata(entry: dict[str, Any], where: str) -> CoreMetadata:
    for key in ("core-metadata", "dist-info-metadata"):
        if key in entry:
            value = entry[key]
            if isinstance(value, bool):
                return value
            return _hash_table(value, where, key)
    return False


def parse_json_page(data: bytes | str, *, url: str, project: str) -> ProjectPage:  # noqa: C901
    """Parse a PEP 691 project page served at `url`; relative file URLs are resolved against it."""
    document = loads_json(data, where=f"{url}: malformed JSON project page", error=InvalidIndexPage)
    if not isinstance(document, dict):
        raise _fail(url, "the document must be an object")
    meta = document.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("api-version"), str):
        raise _fail(url, "missing meta.api-version")
    check_api_version(meta["api-version"], url)
    raw_files = document.get("files")
    if not isinstance(raw_files, list):
        raise _fail(url, "missing or non-list 'files'")
    files = []
    for index, entry in enumerate(raw_files):
        where = f"{url} files[{index}]"
        if not isinstance(entry, dict):
            raise _fail(where, "a file entry must be an object")
        filename, file_url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not filename or "/" in filename:
            raise _fail(where, "missing or invalid 'filename'")
        if not isinstance(file_url, str) or not file_url:
            raise _fail(where, f"{filename}: missing 'url'")
        if "hashes" not in entry:
            raise _fail(where, f"{filename}: missing 'hashes'")
        requires_python = entry.get("requires-python")
        if requires_python is not None and not isinstance(requires_python, str):
            raise _fail(where, f"{filename}: requires-python must be a string")
        yanked = entry.get("yanked", False)
        if not isinstance(yanked, (bool, str)):
            raise _fail(where, f"{filename}: yanked must be true, false or a reason")
        size = entry.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise _fail(where, f"{filename}: size must be a non-negative integer")
        upload_time = entry.get("upload-time")
        files.append(
            IndexFile(
                filename=filename,
                url=_join(url, file_url, where).partition("#")[0],
                hashes=_hash_table(entry["hashes"], where, "hashes"),
                requires_python=requires_python or None,
                yanked=yanked,
                core_metadata=_core_metadata(entry, where),
                size=size,
                upload_time=upload_time if isinstance(upload_time, str) else None,
            )
        )
    versions = document.get("versions", [])
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise _fail(url, "'versions' must be a list of strings")
    return ProjectPage(name=project, url=url, files=tuple(files), versions=tuple(versions))
