"""`fitwheel index build`: complete static indexes from real wheels, incremental re-runs, bad input."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path

import pytest

from fitwheel.errors import InvalidWheel, VariantMetadataConflict
from fitwheel.index.build import build_index
from fitwheel.index.client import IndexClient
from fitwheel.variants.metadata import loads_variants_document
from helpers.catalog import populate, sdist
from helpers.cli import fitwheel
from helpers.variants import make_variant, plain_wheel

# Whole index builds, one or more per test.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("build")
    return populate(root / "src", root / "scratch")


def test_complete_index(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = build_index(source, out)
    assert report.projects == 3 and report.read == report.files == 13
    root = json.loads((out / "index.json").read_text())
    assert [p["name"] for p in root["projects"]] == ["plainpkg", "torchlike", "xlevel"]
    assert 'href="torchlike/"' in (out / "index.html").read_text()

    page = json.loads((out / "torchlike" / "index.json").read_text())
    assert page["meta"]["api-version"] == "1.1" and page["versions"] == ["2.9", "2.10"]
    entries = {f["filename"]: f for f in page["files"]}
    variants = entries["torchlike-2.10-variants.json"]
    document = loads_variants_document(
        (out / "torchlike" / variants["url"]).read_bytes(), where="t"
    )
    assert sorted(document.variants) == ["cuda12.6", "cuda12.8", "null", "rocm7.1", "xpu"]
    assert document.namespace_priorities == ("nvidia", "intel", "amd")
    for name, entry in entries.items():
        data = (out / "torchlike" / entry["url"]).read_bytes()
        assert entry["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        if name.endswith(".whl"):
            sidecar = (out / "torchlike" / f"{entry['url']}.metadata").read_bytes()
            assert entry["core-metadata"]["sha256"] == hashlib.sha256(sidecar).hexdigest()
            assert sidecar.startswith(b"Metadata-Version")
    html = (out / "torchlike" / "index.html").read_text()
    assert 'data-requires-python="&gt;=3.9"' in html
    assert "torchlike-2.10-variants.json#sha256=" in html

    async def read_back() -> int:
        async with IndexClient() as client:
            page = await client.project_page(str(out), "TorchLike")
            return len(page.files)

    assert asyncio.run(read_back()) == len(entries)


def test_sdist_and_base_url(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_index(source, out, base_url="https://cdn.example.org/simple/")
    page = json.loads((out / "plainpkg" / "index.json").read_text())
    urls = sorted(f["url"] for f in page["files"])
    assert urls == [
        "https://cdn.example.org/simple/plainpkg/plainpkg-0.1-py3-none-any.whl",
        "https://cdn.example.org/simple/plainpkg/plainpkg-0.1.tar.gz",
    ]
    sdist_entry = next(f for f in page["files"] if f["filename"].endswith(".tar.gz"))
    assert "core-metadata" not in sdist_entry


def test_rerun_is_incremental_and_merges_new_labels(source: Path, tmp_path: Path) -> None:
    work = tmp_path / "src"
    work.mkdir()
    for path in source.iterdir():
        (work / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "out"
    build_index(work, out)
    again = build_index(work, out)
    assert again.read == 0 and again.written == 0

    base = plain_wheel(tmp_path / "scratch", "xlevel", "1.0")
    make_variant(base, work, "x86_64 :: level :: v1", label="x86_64_v1")
    (work / "xlevel-1.0.tar.gz").unlink(missing_ok=True)
    sdist(work, "xlevel", "1.0")
    third = build_index(work, out)
    assert third.read == 2
    document = loads_variants_document(
        (out / "xlevel" / "xlevel-1.0-variants.json").read_bytes(), where="t"
    )
    assert "x86_64_v1" in document.variants
    names = [
        f["filename"] for f in json.loads((out / "xlevel" / "index.json").read_text())["files"]
    ]
    assert "xlevel-1.0-py3-none-any-x86_64_v1.whl" in names and "xlevel-1.0.tar.gz" in names

    (work / "xlevel-1.0.tar.gz").unlink()
    build_index(work, out)
    assert not (out / "xlevel" / "xlevel-1.0.tar.gz").exists()


def test_existing_variants_json_is_merged_and_conflicts_name_the_file(tmp_path: Path) -> None:
    work = tmp_path / "src"
    base = plain_wheel(tmp_path / "scratch", "demo", "1.0")
    make_variant(base, work, "x86_64 :: level :: v3", label="fast")
    given = {
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["x86_64"]},
        "variants": {"fast": {"x86_64": {"level": ["v4"]}}},
    }
    (work / "demo-1.0-variants.json").write_text(json.dumps(given))
    with pytest.raises(VariantMetadataConflict, match="label 'fast' differs") as info:
        build_index(work, tmp_path / "out")
    assert "demo-1.0" in str(info.value)

    given["variants"] = {"slow": {"x86_64": {"level": ["v1"]}}}
    (work / "demo-1.0-variants.json").write_text(json.dumps(given))
    build_index(work, tmp_path / "out")
    merged = loads_variants_document(
        (tmp_path / "out" / "demo" / "demo-1.0-variants.json").read_bytes(), where="t"
    )
    assert sorted(merged.variants) == ["fast", "slow"]


def test_wheel_whose_variant_json_disagrees_with_its_filename(tmp_path: Path) -> None:
    work = tmp_path / "src"
    base = plain_wheel(tmp_path / "scratch", "demo", "1.0")
    made = make_variant(base, work, "x86_64 :: level :: v3", label="fast")
    made.rename(work / made.name.replace("-fast.whl", "-slow.whl"))
    with pytest.raises(
        InvalidWheel, match=r"variant\.json says label 'fast' but the filename says 'slow'"
    ):
        build_index(work, tmp_path / "out")
    result = fitwheel("index", "build", str(work), str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "demo-1.0-py3-none-any-slow.whl" in result.stderr


def test_labelled_wheel_without_variant_json(tmp_path: Path) -> None:
    work = tmp_path / "src"
    work.mkdir()
    base = plain_wheel(tmp_path / "scratch", "demo", "1.0")
    base.rename(work / "demo-1.0-py3-none-any-fast.whl")
    with pytest.raises(
        InvalidWheel,
        match=r"demo-1\.0-py3-none-any-fast\.whl: the filename has variant label 'fast' but the "
        r"wheel has no demo-1\.0\.dist-info/variant\.json",
    ):
        build_index(work, tmp_path / "out")


def test_cli_reports_and_shows_progress_for_large_folders(tmp_path: Path) -> None:
    work = tmp_path / "src"
    wheel = plain_wheel(tmp_path / "scratch", "many", "1.0")
    data = wheel.read_bytes()
    work.mkdir()
    for minor in range(220):
        # Same bytes under many versions: index build trusts names, not METADATA's version.
        (work / f"many-1.{minor}-py3-none-any.whl").write_bytes(data)
    (work / "notes.txt").write_text("not a distribution")
    # Progress is for a terminal or -v, once a step takes a while: here at once.
    result = fitwheel("index", "build", "-v", work, tmp_path / "out", FITWHEEL_PROGRESS_AFTER="0")
    assert result.returncode == 0, result.stderr
    assert "1 projects, 220 files (220 read" in result.stdout
    shown = [line for line in result.stderr.splitlines() if "building index" in line]
    assert shown[-1] == "fitwheel: building index: 220/220 files"
    assert all(re.fullmatch(r"fitwheel: building index: \d+/220 files", x) for x in shown)
    assert "skipped notes.txt" in result.stderr
    # A pipe without -v: no progress; -q: not even the skipped files.
    for flags, skipped in (((), True), (("-q",), False)):
        again = fitwheel(
            "index", "build", *flags, work, tmp_path / f"out{len(flags)}",
            FITWHEEL_PROGRESS_AFTER="0",
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert "building index" not in again.stderr
        assert ("skipped notes.txt" in again.stderr) is skipped
