"""`index build`'s reading of the source folder: subfolders, duplicate names, hostile archives,
the fast zip and METADATA readers agreeing with the standard library's."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from contextlib import nullcontext
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from fitwheel.errors import FitwheelError, InvalidWheel
from fitwheel.index.build import build_index
from fitwheel.index.scan import requires_python_of
from fitwheel.index.zipdir import member_list, read_member
from helpers.variants import make_variant, plain_wheel
from wheelmaker import make_wheel


def _listed(out: Path, project: str) -> list[str]:
    page = json.loads((out / project / "index.json").read_text())
    return sorted(f["filename"] for f in page["files"])


def test_subfolders_are_scanned_and_hidden_ones_skipped(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_wheel(src / "a", "alpha", "1.0", metadata=("Requires-Python: >=3.9",))
    make_wheel(src / "a" / "deeper", "alpha", "1.1")
    base = plain_wheel(tmp_path / "scratch", "beta", "2.0")
    make_variant(base, src / "b", "x86_64 :: level :: v3", label="x86_64_v3")
    make_wheel(src / ".git", "alpha", "9.0")
    (src / "b" / "notes.txt").write_text("not a distribution")
    out = tmp_path / "out"
    report = build_index(src, out)
    assert report.files == 3 and [s.path for s in report.skipped] == ["b/notes.txt"]
    assert _listed(out, "alpha") == [
        "alpha-1.0-py3-none-any.whl",
        "alpha-1.1-py3-none-any.whl",
    ]
    assert _listed(out, "beta") == [
        "beta-2.0-py3-none-any-x86_64_v3.whl",
        "beta-2.0-variants.json",
    ]
    assert (out / "alpha" / "alpha-1.1-py3-none-any.whl").read_bytes() == (
        src / "a" / "deeper" / "alpha-1.1-py3-none-any.whl"
    ).read_bytes()
    assert 'data-requires-python="&gt;=3.9"' in (out / "alpha" / "index.html").read_text()

    # Moving a file to another subfolder: the same index, the moved file read again.
    (src / "a" / "deeper" / "alpha-1.1-py3-none-any.whl").rename(src / "alpha-1.1-py3-none-any.whl")
    again = build_index(src, out)
    assert again.read == 1 and again.files == 3 and again.written == 0


def test_same_name_in_two_subfolders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    first = make_wheel(src / "x", "gamma", "1.0")
    (src / "y").mkdir()
    shutil.copy2(first, src / "y" / first.name)
    out = tmp_path / "out"
    assert build_index(src, out).files == 1  # identical copies are one file

    make_wheel(src / "y", "gamma", "1.0", files={"gamma/__init__.py": "other = 1\n"})
    with pytest.raises(FitwheelError, match="different files with the same name") as info:
        build_index(src, out)
    assert str(src / "x" / first.name) in str(info.value)
    assert str(src / "y" / first.name) in str(info.value)


def _rezip(wheel: Path, target: Path, extra: tuple[zipfile.ZipInfo, bytes] | None) -> Path:
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        if extra is not None:
            out.writestr(*extra)
    return target


@pytest.mark.parametrize(
    ("member", "mode", "message"),
    [
        ("../evil.py", 0o644, "leaves the install folder"),
        ("/etc/evil.py", 0o644, "absolute path"),
        ("gamma/link", stat.S_IFLNK | 0o777, "symbolic link"),
        ("gamma/__init__.py", 0o644, "duplicate archive entry"),
    ],
)
def test_hostile_archives_are_refused(tmp_path: Path, member: str, mode: int, message: str) -> None:
    wheel = make_wheel(tmp_path / "scratch", "gamma", "1.0")
    info = zipfile.ZipInfo(member)
    info.external_attr = mode << 16
    src = tmp_path / "src"
    src.mkdir()
    with pytest.warns(UserWarning) if "duplicate" in message else nullcontext():
        bad = _rezip(wheel, src / wheel.name, (info, b"x"))
    with pytest.raises(InvalidWheel, match=message) as caught:
        build_index(src, tmp_path / "out")
    assert str(bad) in str(caught.value)


def test_fast_zip_reader_agrees_with_zipfile_and_falls_back(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "delta", "1.0", files={"delta/a.py": "a" * 5000, "delta/b": ""})
    data = wheel.read_bytes()
    members = member_list(data)
    assert members is not None
    with zipfile.ZipFile(wheel) as archive:
        assert [(m.filename, m.external_attr) for m in members] == [
            (m.filename, m.external_attr) for m in archive.infolist()
        ]
        for info in members:
            assert read_member(data, info) == archive.read(info.filename)

    # An archive comment, or a corrupted member: not this reader's to judge.
    assert member_list(data[:-2] + b"\x03\x00abc") is None
    metadata = next(m for m in members if m.filename.endswith("METADATA"))
    corrupt = bytearray(data)
    at = metadata.header_offset + 30 + len(metadata.filename) + 2
    corrupt[at] ^= 0xFF
    assert read_member(bytes(corrupt), metadata) is None

    # ... and the index build then reports what zipfile says, naming the file.
    src = tmp_path / "src"
    src.mkdir()
    (src / wheel.name).write_bytes(bytes(corrupt))
    with pytest.raises(InvalidWheel, match="not a readable zip archive") as raised:
        build_index(src, tmp_path / "out")
    assert str(src / wheel.name) in str(raised.value)


@pytest.mark.parametrize(
    "metadata",
    [
        b"Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Python: >=3.9\n\nbody",
        b"Metadata-Version: 2.1\nrequires-python:   >=3.8,\n  <4\nName: a\n",
        b"Metadata-Version: 2.1\nRequires-Python: >=3.7\nRequires-Python: >=3.12\n",
        b"Metadata-Version: 2.1\nName: a\n\nRequires-Python: >=3.9\n",
        b"Metadata-Version: 2.1\nRequires-Python:\n",
        b"Metadata-Version: 2.1\r\nRequires-Python: >=3.6\r\n\r\n",
        b"Metadata-Version: 2.1\nnot a header\nRequires-Python: >=3.9\n",
        b" folded first\nRequires-Python: >=3.9\n",
        b"Name: caf\xc3\xa9\nRequires-Python: >=3.10\n",
        b"",
    ],
)
def test_requires_python_matches_the_email_parser(metadata: bytes) -> None:
    value = BytesHeaderParser().parsebytes(metadata).get("Requires-Python")
    expected = " ".join(str(value).split()) or None if value is not None else None
    assert requires_python_of(metadata) == expected


@pytest.mark.parametrize("fast", [True, False], ids=["central-directory reader", "zipfile"])
def test_metadata_that_unpacks_to_a_bomb_is_refused_unread(tmp_path: Path, fast: bool) -> None:
    # 40 MiB of zeros compress to ~40 KiB: refused from the size the archive declares, before
    # anything is unpacked. An archive comment sends the scan through `zipfile` instead.
    wheel = make_wheel(tmp_path / "scratch", "gamma", "1.0")
    src = tmp_path / "src"
    src.mkdir()
    target = src / wheel.name
    with zipfile.ZipFile(wheel) as original, zipfile.ZipFile(target, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith(".dist-info/METADATA"):
                data += b"\n" + b"\0" * (40 << 20)
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        if not fast:
            out.comment = b"not the fast path"
    assert target.stat().st_size < 1 << 20
    with pytest.raises(
        InvalidWheel, match=r"METADATA unpacks to \d+ bytes, more than the 33554432"
    ):
        build_index(src, tmp_path / "out")


def test_a_symlink_loop_in_the_source_is_no_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_wheel(src, "demo", "1.0")
    (src / "loop1").symlink_to("loop2")
    (src / "loop2").symlink_to("loop1")
    (src / "demo-2.0-py3-none-any.whl").symlink_to("demo-2.0-py3-none-any.whl")
    report = build_index(src, tmp_path / "out")
    assert report.files == 1
    assert {s.path for s in report.skipped} == {"loop1", "loop2", "demo-2.0-py3-none-any.whl"}
