"""The proxy's status page and explain views over real HTTP: a local-folder upstream of real
wheels (one release yanked with a hostile reason), a real failing upstream, and hostile names.

tests/test_serve_status_browser.py drives the same pages in a real headless browser over the
variant wheels of the served index.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fitwheel._version import __version__
from fitwheel.profile import Profile, profile_from_document
from fitwheel.providers import BUILTIN_NAMESPACES, provide_all
from fitwheel.serve.app import ServeConfig, make_app
from fitwheel.serve.negotiation import negotiate
from fitwheel.serve.server import BackgroundServer
from fitwheel.serve.status import MAX_PROJECT_CHARS, STATUS_CONTENT_TYPES
from fitwheel.serve.upstreams import Upstreams
from helpers.servers import StatusServer, status_server
from wheelmaker import make_wheel

HOSTILE = "<script>alert(1)</script>"
CSP = (
    "default-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def machine(**facts: object) -> Profile:
    interpreter = {
        "implementation": "cpython",
        "python_version": "3.12.4",
        "architecture": "x86_64",
        "abis": ["cp312", "abi3", "none"],
        "platforms": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "linux_x86_64"],
    }
    return profile_from_document(
        {"interpreter": interpreter, "variants": provide_all(facts)},
        where="test machine",
        provided_namespaces=frozenset(BUILTIN_NAMESPACES),
    )


V2_FLAGS = ["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"]
PROFILES = {
    "h100": machine(
        nvidia={"cuda_driver_version": "13.0", "compute_capabilities": ["9.0"]},
        cpu={"architecture": "x86_64", "flags": V2_FLAGS},
    ),
    "cpu": machine(),
}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local index tree: `plainpkg` 1.0 (a real wheel) and 2.0 (yanked, hostile reason)."""
    root = tmp_path_factory.mktemp("status-index")
    folder = root / "plainpkg"
    one = make_wheel(folder, "plainpkg", "1.0")
    two = make_wheel(folder, "plainpkg", "2.0")
    files = [
        {"filename": one.name, "url": one.name, "hashes": {}},
        {"filename": two.name, "url": two.name, "hashes": {}, "yanked": HOSTILE},
    ]
    page = {"meta": {"api-version": "1.0"}, "name": "plainpkg", "files": files}
    (folder / "index.json").write_text(json.dumps(page))
    return root


@pytest.fixture(scope="module")
def failing() -> Iterator[StatusServer]:
    with status_server(500) as server:
        yield server


@pytest.fixture
def server(upstream: Path, failing: StatusServer) -> Iterator[BackgroundServer]:
    config = ServeConfig(Upstreams((str(upstream), failing.url)), PROFILES)
    with BackgroundServer(lambda: make_app(config)) as running:
        yield running


def get(url: str, accept: str = "text/html", **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept, **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url: str) -> tuple[int, Any]:
    status, headers, body = get(url, accept="application/json")
    assert headers["Content-Type"] == "application/json"
    return status, json.loads(body)


def test_the_page_names_the_version_the_profiles_and_the_upstreams(
    server: BackgroundServer, upstream: Path, failing: StatusServer
) -> None:
    status, document = get_json(server.url + "/")
    assert status == 200
    assert document["fitwheel"] == __version__
    assert document["profiles"] == [
        {
            "name": "h100",
            "index": "/p/h100/simple/",
            "architecture": "x86_64",
            "python": "cpython 3.12.4",
            "namespaces": {
                "x86_64": "level v2",
                "nvidia": "cuda_version_lower_bound 13.0, sm_arch 90_real",
            },
        },
        {
            "name": "cpu",
            "index": "/p/cpu/simple/",
            "architecture": "x86_64",
            "python": "cpython 3.12.4",
            "namespaces": {},
        },
    ]
    never = {"healthy": None, "last_success": None, "last_failure": None, "last_error": None}
    assert document["upstreams"] == [
        {"url": str(upstream), "kind": "index", **never, "successes": 0, "failures": 0},
        {"url": failing.url, "kind": "index", **never, "successes": 0, "failures": 0},
    ]
    status, headers, body = get(server.url + "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert f"fitwheel {__version__}" in page
    assert "<td><b>h100</b></td>" in page
    assert "nvidia: cuda_version_lower_bound 13.0, sm_arch 90_real" in page
    assert page.count("not asked yet") == 2
    assert '<form method="get" action="/"' in page and 'name="project"' in page
    assert "<script" not in page and "http" not in page.replace(failing.url, "")


def test_upstream_health_is_what_the_proxy_saw_and_costs_no_request(
    server: BackgroundServer, upstream: Path, failing: StatusServer
) -> None:
    status, _, _ = get(server.url + "/p/cpu/simple/plainpkg/")
    assert status == 200
    status, _, _ = get(server.url + "/p/cpu/simple/elsewhere/")  # the first says "not here"
    assert status == 502
    hits = failing.hits
    _, document = get_json(server.url + "/")
    get(server.url + "/")
    assert failing.hits == hits  # the page asked no upstream anything
    local, remote = document["upstreams"]
    assert local["healthy"] is True and local["successes"] == 2 and local["failures"] == 0
    assert local["last_success"].endswith("Z") and local["last_error"] is None
    assert remote["healthy"] is False and remote["failures"] == 1 and remote["successes"] == 0
    assert remote["last_error"].startswith(f"{failing.url}elsewhere/: HTTP 500")
    _, _, body = get(server.url + "/")
    assert '<span class="bad">failing</span>' in body.decode()
    assert '<span class="ok">answering</span>' in body.decode()


def test_a_search_shows_each_profiles_build_and_links_its_explain_view(
    server: BackgroundServer,
) -> None:
    status, document = get_json(server.url + "/?project=PlainPkg")
    assert status == 200
    search = document["search"]
    assert search["project"] == "plainpkg" and search["error"] is None
    yanked = {
        "version": "2.0",
        "build": "nothing fits",
        "filename": None,
        "reason": "no file of this release fits the target",
    }
    plain = {
        "version": "1.0",
        "build": "plain wheel",
        "filename": "plainpkg-1.0-py3-none-any.whl",
        "reason": "best plain wheel for the target (tag py3-none-any)",
    }
    assert search["profiles"] == [
        {"profile": name, "explain": f"/p/{name}/explain/plainpkg", "error": None,
         "releases": [yanked, plain]}
        for name in ("h100", "cpu")
    ]  # fmt: skip
    status, document = get_json(server.url + "/?project=elsewhere")
    assert status == 200
    errors = {row["profile"]: row["error"] for row in document["search"]["profiles"]}
    assert set(errors) == {"h100", "cpu"}
    assert all(
        e.startswith(f"upstream {document['upstreams'][1]['url']} failed") for e in errors.values()
    )


def test_the_explain_view_is_explain_and_escapes_what_the_upstream_wrote(
    server: BackgroundServer, upstream: Path
) -> None:
    status, document = get_json(server.url + "/p/cpu/explain/plainpkg")
    assert status == 200
    one = f"{(upstream / 'plainpkg' / 'plainpkg-1.0-py3-none-any.whl').as_uri()}"
    assert document == {
        "project": "plainpkg",
        "profile": "cpu",
        "index": "/p/cpu/simple/",
        "releases": [
            {
                "version": "2.0",
                "chosen": None,
                "reason": "no file of this release fits the target",
                "rejected": [
                    {"filename": "plainpkg-2.0-py3-none-any.whl", "reason": f"yanked: {HOSTILE}"}
                ],
                "rejected_not_shown": 0,
            },
            {
                "version": "1.0",
                "chosen": {
                    "filename": "plainpkg-1.0-py3-none-any.whl",
                    "label": None,
                    "url": one,
                    "reason": "best plain wheel for the target (tag py3-none-any)",
                },
                "reason": "best plain wheel for the target (tag py3-none-any)",
                "rejected": [],
                "rejected_not_shown": 0,
            },
        ],
        "releases_not_shown": 0,
    }
    status, headers, body = get(server.url + "/p/cpu/explain/plainpkg")
    page = body.decode()
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    assert "<script" not in page
    assert "yanked: &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="/?project=plainpkg">every profile</a>' in page
    status, _, body = get(server.url + "/p/nobody/explain/plainpkg")
    assert status == 404 and b"no profile 'nobody'; served: /p/h100/simple/" in body


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        (HOSTILE, "&#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27; is not a valid project name"),
        ("a" * 500, f"&#x27;{'a' * MAX_PROJECT_CHARS}…&#x27; is not a valid project name"),
        ("../../etc", "&#x27;../../etc&#x27; is not a valid project name"),
    ],
)
def test_a_name_that_is_no_project_is_one_escaped_line(
    server: BackgroundServer, query: str, shown: str
) -> None:
    url = server.url + "/?" + urllib.parse.urlencode({"project": query})
    status, headers, body = get(url)
    page = body.decode()
    assert status == 400 and headers["Content-Security-Policy"] == CSP
    assert f'<p class="error" id="search-error">{shown}</p>' in page
    assert "<script" not in page
    status, document = get_json(url)
    assert status == 400 and document["search"]["profiles"] == []
    status, _, body = get(server.url + "/explain/" + urllib.parse.quote(HOSTILE, safe=""))
    assert status == 404 and b"<script" not in body


def test_pages_are_revalidated_and_lock_everything_but_themselves(
    server: BackgroundServer,
) -> None:
    for path in ("/", "/?project=plainpkg", "/p/cpu/explain/plainpkg"):
        status, headers, body = get(server.url + path)
        assert status == 200
        assert headers["Cache-Control"] == "public, no-cache" and headers["Vary"] == "Accept"
        assert headers["Content-Security-Policy"] == CSP
        assert headers["X-Content-Type-Options"] == "nosniff"
        status, again, _ = get(server.url + path, **{"If-None-Match": headers["ETag"]})
        assert status == 304 and again["ETag"] == headers["ETag"]
        # Nothing from elsewhere: no script, no stylesheet, image or font, no link off the site.
        for needle in (b"<script", b"<link", b"src=", b"url(", b"@import", b'href="http'):
            assert needle not in body
    _, plain, _ = get(server.url + "/")
    _, as_json, _ = get(server.url + "/", accept="application/json")
    assert plain["ETag"] != as_json["ETag"]


def test_the_page_answers_html_unless_json_is_preferred() -> None:
    assert negotiate("", STATUS_CONTENT_TYPES) == "text/html"
    assert negotiate("*/*", STATUS_CONTENT_TYPES) == "text/html"
    assert negotiate("application/json", STATUS_CONTENT_TYPES) == "application/json"
    assert negotiate("application/*", STATUS_CONTENT_TYPES) == "application/json"
    assert negotiate("text/html;q=0.5, application/json", STATUS_CONTENT_TYPES) == (
        "application/json"
    )
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert negotiate(browser, STATUS_CONTENT_TYPES) == "text/html"
    assert negotiate("image/png", STATUS_CONTENT_TYPES) is None


@pytest.mark.slow
def test_an_index_family_is_searched_explained_and_watched(tmp_path: Path) -> None:
    from fitwheel.families import builtin_family
    from fitwheel.select import Target
    from helpers.families import build_family_site

    tag = next(iter(Target.of(PROFILES["cpu"]).tag_positions)).interpreter
    root = build_family_site(tmp_path, tag, torchvision={})
    base = (root / "whl").as_uri() + "/"
    profiles = {
        "gtx1080ti": machine(
            nvidia={"cuda_driver_version": "12.8", "compute_capabilities": ["6.1"]}
        ),
        **PROFILES,
    }
    config = ServeConfig(
        Upstreams((str(root / "pypi"),)), profiles, families=(builtin_family("pytorch", base),)
    )
    with BackgroundServer(lambda: make_app(config)) as server:
        status, document = get_json(server.url + "/?project=torch")
        assert status == 200
        builds = {
            row["profile"]: [(r["version"], r["build"]) for r in row["releases"]]
            for row in document["search"]["profiles"]
        }
        assert builds == {
            "gtx1080ti": [("2.9.0", "cu126"), ("2.8.0", "cu126")],
            "h100": [("2.9.0", "cu130"), ("2.8.0", "cu129")],
            "cpu": [("2.9.0", "cpu"), ("2.8.0", "cpu")],
        }
        assert document["upstreams"][1] == {
            **document["upstreams"][1],
            "url": base,
            "kind": "index family pytorch",
            "healthy": True,
            "successes": 3,
        }
        _, explained = get_json(server.url + "/p/gtx1080ti/explain/torch")
        newest = explained["releases"][0]
        assert newest["chosen"]["label"] == "cu126"
        assert newest["chosen"]["filename"].startswith("torch-2.9.0+cu126-")
        reasons = {r["reason"] for r in newest["rejected"]}
        assert "cu128 has no kernels for sm 6.1 (built for 7.0-12.0)" in reasons


def test_health_goes_to_the_upstream_a_request_belongs_to(tmp_path: Path) -> None:
    from fitwheel.serve.health import MAX_ERROR_CHARS, UpstreamHealth

    health = UpstreamHealth(
        [
            ("https://user:secret@mirror.example/simple/", "index"),
            ("https://mirror.example/whl/", "index family pytorch"),
            (str(tmp_path), "index"),
        ]
    )
    mirror, family, local = (s.url for s in health.states())
    assert mirror == "https://mirror.example/simple/"
    health.succeeded("https://mirror.example/whl/cu126/torch/")  # under the family's base
    health.succeeded((tmp_path / "pkg" / "pkg-1.0-py3-none-any.whl").as_uri())  # a local file
    health.failed("https://mirror.example/files/a.whl", "boom\n" + "x" * 1000)  # same origin
    health.failed("https://cdn.example/a.whl", "not an upstream")  # no upstream's
    by_url = {s.url: s for s in health.states()}
    assert (by_url[family].successes, by_url[family].failures) == (1, 0)
    assert (by_url[local].successes, by_url[local].healthy) == (1, True)
    failed = by_url[mirror]
    assert (failed.successes, failed.failures, failed.healthy) == (0, 1, False)
    assert failed.last_error is not None and len(failed.last_error) == MAX_ERROR_CHARS
    assert failed.last_error.startswith("boom xxx") and failed.last_error.endswith("…")
    assert health.changes == 3


def test_an_upstreams_login_is_never_shown(failing: StatusServer) -> None:
    url = failing.url.replace("http://", "http://user:secret@")
    config = ServeConfig(Upstreams((url,)), PROFILES)
    with BackgroundServer(lambda: make_app(config)) as server:
        get(server.url + "/p/cpu/simple/anything/")
        status, document = get_json(server.url + "/")
        _, _, page = get(server.url + "/")
    assert status == 200
    (upstream,) = document["upstreams"]
    assert upstream["url"] == failing.url and upstream["healthy"] is False
    assert b"secret" not in page and "secret" not in json.dumps(document)


def test_an_unreadable_variants_json_shows_as_its_upstreams_failure(tmp_path: Path) -> None:
    from helpers.variants import make_variant, plain_wheel

    links = tmp_path / "links"
    plain = plain_wheel(tmp_path / "plain", "deepdoc", "1.0")
    make_variant(plain, links, null=True, namespace_priority="nvidia")
    (links / "deepdoc-1.0-variants.json").write_text("[" * 1000 + "]" * 1000)
    config = ServeConfig(Upstreams((str(links),)), PROFILES)
    with BackgroundServer(lambda: make_app(config)) as server:
        status, _, _ = get(server.url + "/p/cpu/simple/deepdoc/")
        assert status == 502
        _, document = get_json(server.url + "/")
    (upstream,) = document["upstreams"]
    assert upstream["healthy"] is False and upstream["successes"] == 1
    assert "deepdoc-1.0-variants.json" in upstream["last_error"]
