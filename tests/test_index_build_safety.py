"""`fitwheel index build` as a trust boundary: hostile source folders, crafted state files,
output folders it did not make, and an nginx serving the result with the documented config.

Driven through the real command (`python -m fitwheel index build`), so the same tests run
against any version of the builder.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from helpers.catalog import sdist
from helpers.cli import fitwheel
from helpers.index_check import index_problems
from helpers.nginx import requires_nginx, start_nginx
from helpers.variants import make_variant, plain_wheel
from wheelmaker import make_wheel

# Whole index builds, one or more per test.
pytestmark = pytest.mark.slow

STATE = ".fitwheel-index.json"


def build(src: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    result = fitwheel("index", "build", str(src), str(out), *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


def listed(out: Path, project: str | None = None) -> list[str]:
    if project is None:
        return [p["name"] for p in json.loads((out / "index.json").read_text())["projects"]]
    page = json.loads((out / project / "index.json").read_text())
    return sorted(f["filename"] for f in page["files"])


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("root:x:0:0:the machine's own file\n")
    return path


def test_symbolic_links_are_not_followed(tmp_path: Path, secret: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_wheel(src, "good", "1.0")
    (src / "leak-1.0.tar.gz").symlink_to(secret)
    elsewhere = tmp_path / "elsewhere"
    make_wheel(elsewhere, "hidden", "1.0")
    (src / "sub").symlink_to(elsewhere, target_is_directory=True)
    code, _, stderr = build(src, out)
    assert code == 0
    assert "skipped leak-1.0.tar.gz: a symbolic link (links are not followed)" in stderr
    assert "skipped sub: a symbolic link" in stderr
    assert listed(out) == ["good"]
    assert not (out / "leak").exists() and not (out / "hidden").exists()
    assert secret.read_text() not in "".join(
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()
    )


def test_published_files_are_readable_copies(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    wheel = make_wheel(src, "demo", "1.0")
    base = plain_wheel(tmp_path / "scratch", "demo", "2.0")
    variant = make_variant(base, src, "x86_64 :: level :: v3", label="fast")
    for path in (wheel, variant):
        path.chmod(0o600)  # as make-variant and some build tools write them
    old = os.umask(0o022)
    try:
        assert build(src, out)[0] == 0
    finally:
        os.umask(old)
    for name in listed(out, "demo"):
        published = out / "demo" / name
        info = published.stat()
        assert stat.S_IMODE(info.st_mode) == 0o644, name
        assert info.st_nlink == 1, f"{name} is linked to the source"
    before = (out / "demo" / wheel.name).read_bytes()
    # Rebuilding a wheel in the source folder must not change what was published under its hash.
    with open(wheel, "r+b") as handle:
        handle.write(b"XXXX")
    assert (out / "demo" / wheel.name).read_bytes() == before
    assert index_problems(out) == []


def test_a_crafted_state_file_deletes_nothing_outside_out(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_wheel(src, "demo", "1.0")
    assert build(src, out)[0] == 0
    state = (out / STATE).read_text()
    assert str(src) not in state and str(tmp_path) not in state, "the state leaks source paths"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for crafted in (
        {"format": 2, "source": str(src), "files": {}, "outputs": ["../victim.txt"]},
        {"format": 3, "source": "x", "files": {}, "projects": {"..": ["victim.txt"]}},
        {"format": 3, "source": "x", "files": {}, "projects": {"demo": ["../../victim.txt"]}},
    ):
        (out / STATE).write_text(json.dumps(crafted))
        code, _, stderr = build(src, out)
        assert code == 2 and "is not a state file index build wrote" in stderr, stderr
        assert victim.read_text() == "keep me"
        assert build(src, out, "--force")[0] == 0
        assert victim.read_text() == "keep me"
        assert index_problems(out) == []


def test_a_crafted_record_cannot_publish_a_file_outside_src(tmp_path: Path, secret: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    sdist(src, "demo", "1.0")
    assert build(src, out)[0] == 0
    state = json.loads((out / STATE).read_text())
    record = state["files"]["demo-1.0.tar.gz"]
    size = secret.stat().st_size
    record.update(path="../secret.txt", size=size, mtime_ns=secret.stat().st_mtime_ns)
    (out / STATE).write_text(json.dumps(state))
    os.utime(src / "demo-1.0.tar.gz", ns=(record["mtime_ns"], record["mtime_ns"]))
    assert build(src, out)[0] == 0
    assert secret.read_bytes() != (out / "demo" / "demo-1.0.tar.gz").read_bytes()
    assert index_problems(out) == []


def test_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_wheel(src, "demo", "1.0")
    (out / "handmade").mkdir(parents=True)
    (out / "index.html").write_text("<a href='handmade/'>handmade</a>")
    (out / "handmade" / "index.html").write_text("mine")
    code, _, stderr = build(src, out)
    assert code == 2 and "was not written by index build" in stderr and "--force" in stderr
    assert (out / "index.html").read_text() == "<a href='handmade/'>handmade</a>"
    assert build(src, out, "--force")[0] == 0
    assert (out / "handmade" / "index.html").read_text() == "mine"
    assert listed(out) == ["demo"]


def test_projects_of_another_source_are_kept_until_pruned(tmp_path: Path) -> None:
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    make_wheel(first, "alpha", "1.0")
    make_wheel(second, "beta", "1.0")
    assert build(first, out)[0] == 0
    code, _, stderr = build(second, out)
    assert code == 0 and "kept 1 projects gone from" in stderr and "alpha" in stderr
    assert listed(out) == ["alpha", "beta"]
    assert listed(out, "alpha") == ["alpha-1.0-py3-none-any.whl"]
    assert index_problems(out) == []
    code, stdout, _ = build(second, out, "--prune")
    assert code == 0 and "removed project alpha" in stdout
    assert listed(out) == ["beta"] and not (out / "alpha").exists()
    assert index_problems(out) == []


def test_prune_removes_only_what_the_builder_made(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_wheel(src, "alpha", "1.0")
    make_wheel(src, "beta", "1.0")
    assert build(src, out)[0] == 0
    (out / "alpha" / "NOTES.txt").write_text("an operator's file")
    for path in (src / "alpha-1.0-py3-none-any.whl",):
        path.unlink()
    assert build(src, out, "--prune")[0] == 0
    assert (out / "alpha" / "NOTES.txt").read_text() == "an operator's file"
    assert not (out / "alpha" / "alpha-1.0-py3-none-any.whl").exists()
    assert listed(out) == ["beta"]


def test_spellings_of_one_distribution_are_an_error_naming_both(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_wheel(src, "pkg", "1.0")
    other = make_wheel(src / "other", "pkg", "1.0", files={"pkg/__init__.py": "other = 1\n"})
    other.rename(other.with_name("PKG-1.0-py3-none-any.whl"))
    code, _, stderr = build(src, out)
    assert code == 2, stderr
    assert "pkg-1.0-py3-none-any.whl" in stderr and "PKG-1.0-py3-none-any.whl" in stderr
    (src / "other" / "PKG-1.0-py3-none-any.whl").unlink()
    sdist(src, "pkg", "1.0")
    sdist(src / "other", "pkg", "1.0.0")
    code, _, stderr = build(src, out)
    assert code == 2 and "pkg-1.0.tar.gz" in stderr and "pkg-1.0.0.tar.gz" in stderr


def test_invalid_project_names_are_skipped_with_a_reason(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_wheel(src, "demo", "1.0")
    (src / "-1.0.tar.gz").write_bytes((sdist(tmp_path, "x", "1.0")).read_bytes())
    (src / "_-1.0.zip").write_bytes(b"PK")
    code, _, stderr = build(src, out)
    assert code == 0
    assert "skipped -1.0.tar.gz" in stderr and "skipped _-1.0.zip" in stderr
    assert "not a valid project name" in stderr
    assert listed(out) == ["demo"]
    assert 'href="demo/"' in (out / "index.html").read_text()


@requires_nginx
@pytest.mark.e2e
def test_nginx_serves_no_state_file_and_no_linked_file(tmp_path: Path, secret: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_wheel(src, "demo", "1.0")
    (src / "leak-1.0.tar.gz").symlink_to(secret)
    assert build(src, out)[0] == 0
    with start_nginx(out, tmp_path) as server:
        for name in (STATE, ".fitwheel-index.lock", "leak/leak-1.0.tar.gz", "leak/"):
            with pytest.raises(HTTPError) as info:
                urlopen(server.url + name, timeout=10)
            assert info.value.code == 404
        with urlopen(server.url + "demo/", timeout=10) as reply:
            assert b"demo-1.0-py3-none-any.whl" in reply.read()


def test_an_index_of_the_previous_format_is_taken_over(tmp_path: Path) -> None:
    """An OUT written by the previous builder (state format 2: the source path and a flat
    list of outputs; distributions hard-linked) is rebuilt without --force."""
    src, out = tmp_path / "src", tmp_path / "out"
    wheel = make_wheel(src, "demo", "1.0")
    assert build(src, out)[0] == 0
    state = json.loads((out / STATE).read_text())
    outputs = ["index.html", "index.json"] + [f"demo/{n}" for n in state["projects"]["demo"]]
    old = {"format": 2, "source": str(src), "files": state["files"], "outputs": outputs}
    (out / STATE).write_text(json.dumps(old))
    (out / "demo" / wheel.name).unlink()
    os.link(wheel, out / "demo" / wheel.name)
    code, _, stderr = build(src, out)
    assert code == 0, stderr
    assert (out / "demo" / wheel.name).stat().st_nlink == 1, "still linked to the source"
    assert str(src) not in (out / STATE).read_text()
    assert index_problems(out) == []
