"""`fitwheel explain` over HTTP against real nginx serving a real `fitwheel index build` output.

The index is served twice by one nginx with the documented config: `json/` is the build output
as-is (content negotiation gives PEP 691 JSON to fitwheel, like pip), `html/` is the same tree
without `index.json` files (the config then falls back to the PEP 503 HTML page).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from fitwheel.detect import detect
from fitwheel.index.client import IndexClient
from fitwheel.select import Target, choose
from helpers.catalog import EXPECTED, PROFILES, populate, write_profiles
from helpers.cli import fitwheel
from helpers.nginx import NginxServer, requires_nginx, start_nginx
from helpers.servers import hanging_server, status_server
from helpers.variants import make_variant, plain_wheel

pytestmark = [requires_nginx, pytest.mark.e2e]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NginxServer, dict[str, Path]]]:
    root = tmp_path_factory.mktemp("site")
    source = populate(root / "src", root / "scratch")
    # A release whose variants.json (re-hashed on the page) lacks a label its wheels have.
    mismatch = plain_wheel(root / "scratch", "mismatch", "1.0")
    for value in ("v2", "v3"):
        make_variant(mismatch, source, f"x86_64 :: level :: {value}", label=f"x86_64_{value}")
    (source / mismatch.name).write_bytes(mismatch.read_bytes())
    for broken in BROKEN_VARIANTS:
        base = plain_wheel(root / "scratch", broken, "1.0")
        make_variant(base, source, "x86_64 :: level :: v3", label="x86_64_v3")
        (source / base.name).write_bytes(base.read_bytes())
    served = root / "www"
    result = fitwheel("index", "build", str(source), str(served / "json"))
    assert result.returncode == 0, result.stderr
    _drop_label(served / "json" / "mismatch", "x86_64_v3")
    for broken, data in BROKEN_VARIANTS.items():
        _rewrite_variants(served / "json" / broken, f"{broken}-1.0-variants.json", data)
    (served / "json" / "brokenjson").mkdir()
    (served / "json" / "brokenjson" / "index.json").write_text('{"meta": {"api-version": "1.1"}, ')
    shutil.copytree(served / "json", served / "html")
    for page in (served / "html").rglob("index.json"):
        page.unlink()
    (served / "html" / "brokenhtml").mkdir()
    (served / "html" / "brokenhtml" / "index.html").write_text(
        '<html><body><a href="brokenhtml-1.0-py3-none-any.whl">ok</a><a href="x.whl\n'
    )
    with start_nginx(served, root) as server:
        yield server, write_profiles(root / "profiles")


BROKEN_VARIANTS = {
    "badvariantsjson": b'{"$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json", ',
    "badvariantsschema": json.dumps(
        {
            "$schema": "https://variants-schema.wheelnext.dev/peps/825/v9.0.0.json",
            "default-priorities": {"namespace": ["x86_64"]},
            "variants": {"x86_64_v3": {"x86_64": {"level": ["v3"]}}},
        }
    ).encode(),
}
"""Projects whose listed variants.json is malformed (its hash on the JSON page matches it)."""


def _drop_label(project_dir: Path, label: str) -> None:
    """Rewrite the release's variants.json without `label`, and its hash on the JSON page."""
    variants = project_dir / "mismatch-1.0-variants.json"
    document = json.loads(variants.read_text())
    del document["variants"][label]
    _rewrite_variants(project_dir, variants.name, json.dumps(document).encode())


def _rewrite_variants(project_dir: Path, filename: str, data: bytes) -> None:
    """Replace a variants.json with `data`, and its hash on the JSON and HTML pages."""
    old = hashlib.sha256((project_dir / filename).read_bytes()).hexdigest()
    new = hashlib.sha256(data).hexdigest()
    (project_dir / filename).write_bytes(data)
    page = json.loads((project_dir / "index.json").read_text())
    for entry in page["files"]:
        if entry["filename"] == filename:
            entry["hashes"] = {"sha256": new}
            entry["size"] = len(data)
    (project_dir / "index.json").write_text(json.dumps(page))
    html = project_dir / "index.html"
    html.write_text(html.read_text().replace(old, new))


def test_nginx_negotiates_pep691_json_and_html(site: tuple[NginxServer, dict[str, Path]]) -> None:
    server, _ = site
    url = server.url + "json/torchlike/"
    pip_accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
    with urlopen(Request(url, headers={"Accept": pip_accept}), timeout=10) as reply:
        assert reply.headers["Content-Type"] == "application/vnd.pypi.simple.v1+json"
        assert "Accept" in reply.headers["Vary"]
        assert json.load(reply)["name"] == "torchlike"
    with urlopen(Request(url, headers={"Accept": "text/html"}), timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("text/html")
        assert b"<a href=" in reply.read()
    with urlopen(server.url + "json/", timeout=10) as reply:
        assert b'href="torchlike/"' in reply.read()


@pytest.mark.parametrize("mode", ["json", "html"])
@pytest.mark.parametrize("profile_name", sorted(PROFILES))
def test_choices_over_http_match_expectations(
    site: tuple[NginxServer, dict[str, Path]], mode: str, profile_name: str
) -> None:
    server, profiles = site
    target = Target.of(detect(profile=str(profiles[profile_name])))

    async def main() -> dict[str, tuple[str | None, str]]:
        out = {}
        async with IndexClient() as client:
            for project in ("torchlike", "xlevel"):
                page = await client.project_page(server.url + mode + "/", project)
                documents = await client.variants_documents(page)
                newest = choose(page, target, documents)[0]
                assert newest.chosen is not None, newest.reason
                out[project] = (newest.label, newest.chosen.filename)
        return out

    chosen = asyncio.run(main())
    for project, (label, filename) in chosen.items():
        assert label == EXPECTED[(project, profile_name)], (project, filename)
        if label is None:
            assert filename.count("-") == 4  # the plain fallback


def test_explain_cli_json_over_http(site: tuple[NginxServer, dict[str, Path]]) -> None:
    server, profiles = site
    result = fitwheel(
        "explain", "torchlike", "--index-url", server.url + "json/",
        "--profile", str(profiles["gtx1080ti"]), "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["project"] == "torchlike"
    assert [r["version"] for r in report["releases"]] == ["2.10", "2.9"]
    newest = report["releases"][0]
    assert newest["chosen"]["label"] == "cuda12.6"
    assert newest["chosen"]["filename"].endswith("-cuda12.6.whl")
    reasons = {r["filename"].rsplit("-", 1)[-1]: r["reason"] for r in newest["rejected"]}
    assert "none of" in reasons["cuda12.8.whl"] and "60_real" in reasons["cuda12.8.whl"]
    assert "null variant comes after" in reasons["null.whl"]
    assert report["releases"][1]["chosen"]["label"] is None


def test_explain_cli_text_over_html_pages(site: tuple[NginxServer, dict[str, Path]]) -> None:
    server, profiles = site
    result = fitwheel(
        "explain", "xlevel", "--index-url", server.url + "html/", "--profile", str(profiles["cpu"])
    )
    assert result.returncode == 0, result.stderr
    assert "✓ xlevel-1.0-py3-none-any.whl: best plain wheel" in result.stdout
    assert (
        "✗ xlevel-1.0-py3-none-any-x86_64_v2.whl: variant 'x86_64_v2' does not fit" in result.stdout
    )


def test_variants_json_that_does_not_match_the_wheels(
    site: tuple[NginxServer, dict[str, Path]],
) -> None:
    server, profiles = site
    result = fitwheel(
        "explain", "mismatch", "--index-url", server.url + "json/",
        "--profile", str(profiles["h100"]), "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (release,) = json.loads(result.stdout)["releases"]
    assert release["chosen"]["label"] == "x86_64_v2"
    (lost,) = [r for r in release["rejected"] if r["filename"].endswith("x86_64_v3.whl")]
    assert (
        "'x86_64_v3' is not in " + server.url + "json/mismatch/mismatch-1.0-variants.json"
        in lost["reason"]
    )


@pytest.mark.parametrize("mode", ["json", "html"])
@pytest.mark.parametrize(
    ("project", "message"),
    [
        ("badvariantsjson", "not valid JSON"),
        ("badvariantsschema", "major version 9"),
    ],
)
def test_malformed_variants_json_is_an_error_naming_its_url(
    site: tuple[NginxServer, dict[str, Path]], mode: str, project: str, message: str
) -> None:
    """Not "treat as missing": that would hand the target the plain wheel."""
    server, profiles = site
    result = fitwheel(
        "explain", project, "--index-url", server.url + mode + "/",
        "--profile", str(profiles["h100"]), "--format", "json",
    )  # fmt: skip
    assert result.returncode == 2, result.stdout
    assert result.stdout == "" and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    url = f"{server.url}{mode}/{project}/{project}-1.0-variants.json"
    assert line.startswith(f"fitwheel: error: {url}: ") and message in line


@pytest.mark.parametrize(
    ("path", "project", "message"),
    [
        ("html/", "brokenhtml", "malformed HTML project page: line 1: unterminated tag"),
        ("json/", "brokenjson", "malformed JSON project page: not valid JSON"),
        ("json/", "nosuchproject", "not found (HTTP 404)"),
    ],
)
def test_bad_pages_are_one_line_errors_naming_the_url(
    site: tuple[NginxServer, dict[str, Path]], path: str, project: str, message: str
) -> None:
    server, profiles = site
    result = fitwheel(
        "explain", project, "--index-url", server.url + path, "--profile", str(profiles["cpu"])
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"fitwheel: error: {server.url}{path}{project}/" in result.stderr
    assert message in result.stderr


def test_server_errors_are_retried_then_reported() -> None:
    with status_server(500) as server:
        result = fitwheel("explain", "demo", "--index-url", server.url, "--retries", "2")
        hits = server.hits
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "simple/demo/: HTTP 500" in result.stderr and "(3 attempts)" in result.stderr
    assert hits == 3


def test_a_server_that_never_answers_times_out() -> None:
    with hanging_server() as url:
        result = fitwheel(
            "explain", "demo", "--index-url", url, "--timeout", "0.5", "--retries", "1"
        )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{url}demo/: timed out after 0.5 s (2 attempts)" in result.stderr
