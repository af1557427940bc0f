"""PEP 503 HTML and PEP 691 JSON project pages: strict parsing and rendering that round-trips."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitwheel.errors import InvalidIndexPage
from fitwheel.index.html import parse_html_page
from fitwheel.index.json_api import parse_json_page
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.index.pages import html_project_page, json_project_page

URL = "https://example.org/simple/demo/"

# A page in the shape PyTorch's and PyPI's HTML pages take (relative and absolute links,
# percent-escapes, PEP 592 yanking, PEP 714 and PEP 658 metadata attributes).
HTML = """<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.1"><title>Links</title></head>
<body>
<a href="../../files/demo-1.0%2Bcu128-cp311-cp311-linux_x86_64.whl#sha256=ABCDEF"
   data-requires-python="&gt;=3.9" data-core-metadata="sha256=0123">demo-1.0+cu128-cp311-cp311-linux_x86_64.whl</a><br/>
<a href="https://cdn.example.org/demo-1.0.tar.gz#sha256=abcdef" data-yanked="broken build">demo-1.0.tar.gz</a>
<a href="demo-0.9-py3-none-any.whl" data-yanked="" data-dist-info-metadata="true">demo-0.9-py3-none-any.whl</a>
</body></html>
"""


def test_html_page_fields() -> None:
    page = parse_html_page(HTML, url=URL, project="demo")
    first, second, third = page.files
    assert first.filename == "demo-1.0+cu128-cp311-cp311-linux_x86_64.whl"
    assert first.url == "https://example.org/files/demo-1.0%2Bcu128-cp311-cp311-linux_x86_64.whl"
    assert dict(first.hashes) == {"sha256": "abcdef"}
    assert first.requires_python == ">=3.9"
    assert dict(first.core_metadata) == {"sha256": "0123"}  # type: ignore[arg-type]
    assert first.metadata_url == first.url + ".metadata"
    assert second.yanked == "broken build" and second.yanked_reason == "broken build"
    assert third.yanked is True and third.core_metadata is True and not third.hashes


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ('<a href="x.whl">x.whl</a><a href="y.whl', "unterminated"),
        ("<a>no link</a>", "without href"),
        ('<a href="a.whl"><a href="b.whl">b</a></a>', "inside another"),
        ('<a href="x.whl#sha256">x</a>', "is not #<algorithm>=<hex digest>"),
        ('<meta name="pypi:repository-version" content="2.0">', "not 1.x"),
    ],
)
def test_malformed_html_names_the_url(html: str, message: str) -> None:
    with pytest.raises(InvalidIndexPage, match=message) as info:
        parse_html_page(html, url=URL, project="demo")
    assert URL in str(info.value)


def test_json_page_fields() -> None:
    document = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": "AB"},
                "requires-python": ">=3.8",
                "core-metadata": {"sha256": "cd"},
                "yanked": "bad",
                "size": 10,
            }
        ],
        "versions": ["1.0"],
    }
    page = parse_json_page(json.dumps(document), url=URL, project="demo")
    (file,) = page.files
    assert file.url == URL + "demo-1.0-py3-none-any.whl"
    assert dict(file.hashes) == {"sha256": "ab"} and file.size == 10
    assert file.yanked == "bad" and file.requires_python == ">=3.8"
    assert page.versions == ("1.0",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be an object"),
        ('{"files": []}', "api-version"),
        ('{"meta": {"api-version": "1.0"}, "files": {}}', "'files'"),
        ('{"meta": {"api-version": "1.0"}, "files": [{"filename": "a.whl"}]}', "'url'"),
        (
            '{"meta": {"api-version": "1.0"}, "files": [{"filename": "a.whl", "url": "a"}]}',
            "hashes",
        ),
        ('{"meta": {"api-version": "3.0"}, "files": []}', "not 1.x"),
    ],
)
def test_malformed_json_names_the_url(text: str, message: str) -> None:
    with pytest.raises(InvalidIndexPage, match=message) as info:
        parse_json_page(text, url=URL, project="demo")
    assert URL in str(info.value)


names = st.from_regex(r"demo-[0-9]\.[0-9]-py3-none-any(-[a-z0-9_.]{1,8})?\.whl", fullmatch=True)
digests = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
files = st.builds(
    lambda name, digest, rp, yanked, core, size: IndexFile(
        filename=name,
        url=URL + name,
        hashes=MappingProxyType({"sha256": digest}),
        requires_python=rp,
        yanked=yanked,
        core_metadata=MappingProxyType({"sha256": core}) if core else False,
        size=size,
    ),
    names,
    digests,
    st.sampled_from([None, ">=3.8", ">=3.9,<4", "!=3.10.*"]),
    st.one_of(st.just(False), st.just(True), st.text("abc <>&\"'", min_size=1, max_size=10)),
    st.one_of(st.none(), digests),
    st.integers(0, 10**9),
)


@pytest.mark.slow
@given(st.lists(files, max_size=6))
def test_rendered_pages_parse_back(entries: list[IndexFile]) -> None:
    page = ProjectPage(name="demo", url=URL, files=tuple(entries), versions=("1.0",))
    from_json = parse_json_page(json_project_page(page), url=URL, project="demo")
    assert from_json.files == page.files
    from_html = parse_html_page(html_project_page(page).decode(), url=URL, project="demo")
    # HTML carries no size.
    assert from_html.files == tuple(
        IndexFile(
            filename=f.filename,
            url=f.url,
            hashes=f.hashes,
            requires_python=f.requires_python,
            yanked=f.yanked,
            core_metadata=f.core_metadata,
        )
        for f in page.files
    )


def test_a_link_urllib_cannot_split_is_a_malformed_page_not_a_crash() -> None:
    from fitwheel.index.html import parse_links_page

    bad = '<a href="http://[::1/x">demo-1.0.tar.gz</a>'
    with pytest.raises(InvalidIndexPage, match=r"line 1: invalid link 'http://\[::1/x'"):
        parse_html_page(bad, url=URL, project="demo")
    with pytest.raises(InvalidIndexPage, match="Invalid IPv6 URL"):
        parse_html_page('<base href="http://[::1/">' + bad, url=URL, project="demo")
    # A flat links page lists other projects' links: one that is not a URL is not ours.
    assert parse_links_page(bad, url=URL + "links.html", project="demo").files == ()
    document = {
        "meta": {"api-version": "1.0"},
        "name": "demo",
        "files": [{"filename": "demo-1.0.tar.gz", "url": "http://[::1/x", "hashes": {}}],
    }
    with pytest.raises(InvalidIndexPage, match=r"files\[0\].*invalid url"):
        parse_json_page(json.dumps(document), url=URL, project="demo")


def test_json_page_nested_past_the_bound_is_a_malformed_page() -> None:
    deep = '{"meta": {"api-version": "1.0"}, "files": [], "x": ' + "[" * 1000 + "]" * 1000 + "}"
    with pytest.raises(InvalidIndexPage, match="nested more than 32 levels"):
        parse_json_page(deep, url=URL, project="demo")


def test_a_json_page_of_an_html_upstream_lists_the_versions_of_its_files() -> None:
    """PEP 700 `versions`: an HTML page has none, so they come from the filenames (installers
    such as uv read them); files that name no release (a stray README) add none."""
    html = (
        '<a href="demo-1.10.0-py3-none-any.whl">w</a>'
        '<a href="demo-1.10.0-py3-none-any-cu126.whl">v</a>'
        '<a href="demo-1.10.0-variants.json">j</a>'
        '<a href="demo-1.9.tar.gz">s</a>'
        '<a href="demo-2.0rc1-py3-none-any.whl">r</a>'
        '<a href="README.txt">x</a>'
    )
    page = parse_html_page(html, url=URL, project="demo")
    assert page.versions == ()
    document = json.loads(json_project_page(page))
    assert document["versions"] == ["1.9", "1.10.0", "2.0rc1"]
