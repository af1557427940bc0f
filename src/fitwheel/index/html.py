"""PEP 503 HTML project pages (with PEP 592 yanking, PEP 658/714 metadata): strict parsing.

The stdlib `html.parser` forgives almost anything, so the checks that make a page trustworthy
are done here: every anchor has an `href`, anchors do not nest, no tag is left unterminated,
hash fragments are `#algo=hex`, and the page's `pypi:repository-version` is 1.x.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import MappingProxyType
from urllib.parse import unquote, urljoin, urlsplit

from fitwheel.errors import InvalidIndexPage
from fitwheel.index.filenames import classify, project_of
from fitwheel.index.model import CoreMetadata, IndexFile, ProjectPage

_HASH_RE = re.compile(r"(?P<algo>[a-z0-9_]+)=(?P<digest>[0-9a-fA-F]+)")
_TAG_IN_TEXT_RE = re.compile(r"<[A-Za-z/!]")


class _Anchors(HTMLParser):
    def __init__(self, where: str) -> None:
        super().__init__(convert_charrefs=True)
        self.where = where
        self.base: str | None = None
        self.anchors: list[tuple[dict[str, str | None], int]] = []
        self.api_version: str | None = None
        self.open_anchor = False
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a":
            if self.open_anchor:
                self._fail("an <a> inside another <a>")
            self.open_anchor = True
            self.anchors.append((values, self.getpos()[0]))
        elif tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        elif tag == "meta" and values.get("name") == "pypi:repository-version":
            self.api_version = values.get("content") or ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.open_anchor = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.open_anchor = False

    def handle_data(self, data: str) -> None:
        if _TAG_IN_TEXT_RE.search(data):
            self._fail(f"unterminated tag near {data.strip()[:40]!r}")

    def _fail(self, message: str) -> None:
        if self.problem is None:
            self.problem = f"line {self.getpos()[0]}: {message}"


def _hashes(fragment: str, where: str) -> MappingProxyType[str, str]:
    if not fragment:
        return MappingProxyType({})
    match = _HASH_RE.fullmatch(fragment)
    if match is None:
        raise InvalidIndexPage(
            f"{where}: link fragment #{fragment} is not #<algorithm>=<hex digest>"
        )
    return MappingProxyType({match["algo"]: match["digest"].lower()})


def _core_metadata(values: dict[str, str | None]) -> CoreMetadata:
    for key in ("data-core-metadata", "data-dist-info-metadata"):
        if key in values:
            value = values[key]
            if value in (None, "", "true"):
                return True
            assert value is not None
            match = _HASH_RE.fullmatch(value)
            return MappingProxyType({match["algo"]: match["digest"].lower()}) if match else True
    return False


def check_api_version(version: str | None, where: str) -> None:
    """Reject a repository API major version other than 1 (PEP 629)."""
    if version is None:
        return
    major = version.split(".", 1)[0]
    if major != "1":
        raise InvalidIndexPage(
            f"{where}: repository API version {version!r} is not 1.x; this fitwheel reads 1.x"
        )


def _parsed(text: str, url: str, what: str) -> _Anchors:
    parser = _Anchors(url)
    try:
        parser.feed(text)
        leftover = parser.rawdata.strip()
        if leftover:
            parser._fail(f"unterminated tag {leftover[:40]!r}")
        parser.close()
    except AssertionError as exc:
        # html.parser asserts on some malformed declarations (`<![`): a malformed page.
        raise InvalidIndexPage(f"{url}: malformed HTML {what}: {exc}") from None
    if parser.problem is not None:
        raise InvalidIndexPage(f"{url}: malformed HTML {what}: {parser.problem}")
    if parser.open_anchor:
        raise InvalidIndexPage(f"{url}: malformed HTML {what}: an <a> is never closed")
    check_api_version(parser.api_version, url)
    return parser


def _join(base: str, link: str, where: str) -> str:
    """`link` resolved against `base`; a URL `urllib` cannot split (`http://[::1/x`) is a
    malformed page, not a crash."""
    try:
        absolute = urljoin(base, link)
        urlsplit(absolute)
    except ValueError as exc:
        raise InvalidIndexPage(f"{where}: invalid link {link[:100]!r} ({exc})") from None
    return absolute


def _last_segment(link: str) -> str | None:
    """The unquoted last path segment of `link`, or None when it is not a URL at all."""
    try:
        return unquote(urlsplit(link).path.rsplit("/", 1)[-1])
    except ValueError:
        return None


def _file(values: dict[str, str | None], base: str, where: str) -> IndexFile | None:
    """The file an anchor links to, or None when its link names no file."""
    href = values.get("href")
    if not href:
        raise InvalidIndexPage(f"{where}: an <a> without href")
    location, _, fragment = _join(base, href, where).partition("#")
    filename = _last_segment(location)
    if not filename:
        return None
    yanked = values.get("data-yanked")
    return IndexFile(
        filename=filename,
        url=location,
        hashes=_hashes(fragment, where),
        requires_python=values.get("data-requires-python") or None,
        yanked=False if "data-yanked" not in values else (yanked or True),
        core_metadata=_core_metadata(values),
    )


def parse_html_page(text: str, *, url: str, project: str) -> ProjectPage:
    """Parse a PEP 503 project page served at `url`; links are resolved against it."""
    parser = _parsed(text, url, "project page")
    base = _join(url, parser.base, url) if parser.base else url
    files = []
    for values, line in parser.anchors:
        where = f"{url} line {line}"
        file = _file(values, base, where)
        if file is None:
            raise InvalidIndexPage(f"{where}: link {values.get('href')!r} does not name a file")
        files.append(file)
    return ProjectPage(name=project, url=url, files=tuple(files))


def is_links_page(url: str) -> bool:
    """Whether `url` names one HTML page of links (`…/links.html`) rather than an index root."""
    return urlsplit(url).path.lower().endswith((".html", ".htm"))


def parse_links_page(text: str, *, url: str, project: str) -> ProjectPage:
    """`project`'s files on a flat page of links (pip's `--find-links URL`): the files of
    many projects on one page, told apart by their names; other links are ignored."""
    parser = _parsed(text, url, "links page")
    base = _join(url, parser.base, url) if parser.base else url
    files = []
    for values, line in parser.anchors:
        name = _last_segment(values.get("href") or "")
        if name is None or project_of(name) != project or classify(name, project) is None:
            continue
        file = _file(values, base, f"{url} line {line}")
        if file is not None:
            files.append(file)
    return ProjectPage(name=project, url=url, files=tuple(files))
