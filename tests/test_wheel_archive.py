"""Reading and rewriting wheel archives: zip structures zipfile refuses are one-line errors,
members are streamed with a bound, and a RECORD that lies is refused."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from fitwheel.errors import InvalidWheel, UnreadableArchive
from fitwheel.index.build import build_index
from fitwheel.variants.properties import parse_property
from fitwheel.wheel.archive import open_wheel
from fitwheel.wheel.variant import make_variant
from helpers.cli import fitwheel
from wheelmaker import make_wheel

PROPERTY = "x86_64 :: level :: v3"


def _first_member_offsets(data: bytes | bytearray) -> tuple[int, int]:
    """(local header offset, central directory entry offset) of the archive's first member."""
    central = struct.unpack_from("<L", data, len(data) - 22 + 16)[0]
    return 0, central


def _corrupt_deflate(data: bytearray) -> None:
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    start = 30 + name_length + extra_length
    for at in range(start, start + 8):
        data[at] ^= 0xFF


def _both_headers(local_at: int, central_at: int, value: int) -> Callable[[bytearray], None]:
    def mutate(data: bytearray) -> None:
        local, central = _first_member_offsets(data)
        struct.pack_into("<H" if local_at != 14 else "<L", data, local + local_at, value)
        struct.pack_into("<H" if central_at != 16 else "<L", data, central + central_at, value)

    return mutate


# Each breaks the first member (the package's module) the way the fuzzer found.
MUTATIONS: dict[str, tuple[Callable[[bytearray], None], str]] = {
    "bad-crc": (_both_headers(14, 16, 0xDEADBEEF), "Bad CRC-32"),
    "extract-version": (_both_headers(4, 6, 99), "zip file version 9.9"),
    "method-99": (_both_headers(8, 10, 99), "compression method 99"),
    "encrypted": (_both_headers(6, 8, 0x1), "is encrypted"),
    "corrupt-deflate": (_corrupt_deflate, "Error -3 while decompressing"),
}


def broken_wheel(directory: Path, kind: str, version: str = "1.0") -> Path:
    scratch = directory.parent / f"scratch-{kind}"
    clean = make_wheel(scratch, "demo", version, files={"demo/a.py": "x = 1\n" * 64})
    data = bytearray(clean.read_bytes())
    MUTATIONS[kind][0](data)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / clean.name
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_make_variant_reports_a_broken_archive_in_one_line(tmp_path: Path, kind: str) -> None:
    wheel = broken_wheel(tmp_path / "src", kind)
    result = fitwheel("wheel", "make-variant", wheel, "-p", PROPERTY, "-o", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(wheel) in result.stderr and MUTATIONS[kind][1] in result.stderr
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


@pytest.mark.parametrize("kind", ["extract-version", "method-99", "encrypted"])
def test_inspect_reports_what_zipfile_refuses_in_one_line(tmp_path: Path, kind: str) -> None:
    wheel = broken_wheel(tmp_path / "src", kind)
    result = fitwheel("wheel", "inspect", wheel)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and MUTATIONS[kind][1] in result.stderr
    with pytest.raises(UnreadableArchive):
        open_wheel(wheel)


@pytest.mark.parametrize("kind", ["encrypted", "extract-version", "method-99"])
def test_index_build_refuses_what_pip_cannot_open(tmp_path: Path, kind: str) -> None:
    # The fast zip reader once accepted these flags and versions and published the wheel.
    src = tmp_path / "src"
    make_wheel(src, "demo", "1.1")
    bad = broken_wheel(src, kind, version="1.0")
    with pytest.raises(UnreadableArchive):
        build_index(src, tmp_path / "strict")
    report = build_index(src, tmp_path / "out", skip_unreadable=True)
    assert report.files == 1
    (skipped,) = report.skipped
    expected = {"encrypted": "is encrypted", "extract-version": "9.9", "method-99": "method 99"}
    assert skipped.path == bad.name and expected[kind] in skipped.reason


def test_index_build_cli_skips_an_unreadable_wheel_with_its_reason(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_wheel(src, "demo", "1.1")
    bad = broken_wheel(src, "encrypted", version="1.0")
    result = fitwheel("index", "build", src, tmp_path / "cli")
    assert result.returncode == 0, result.stderr
    assert f"skipped {bad.name}: member 'demo/a.py' is encrypted" in result.stderr
    assert "demo-1.0-py3-none-any.whl" not in (tmp_path / "cli/demo/index.html").read_text()


def test_a_record_that_lies_is_refused_not_rewritten(tmp_path: Path) -> None:
    clean = make_wheel(tmp_path / "clean", "demo", "1.0", files={"demo/a.py": "x = 1\n"})
    lying = tmp_path / "src" / clean.name
    lying.parent.mkdir()
    with zipfile.ZipFile(clean) as source, zipfile.ZipFile(lying, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info, b"x = 2\n" if info.filename == "demo/a.py" else data)
    open_wheel(lying)  # the member list is fine; copying checks each member against RECORD
    with pytest.raises(InvalidWheel, match=r"RECORD says demo/a\.py has sha256="):
        make_variant(lying, tmp_path / "out", [parse_property(PROPERTY)])
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_make_variant_and_unmake_stream_a_large_member(tmp_path: Path) -> None:
    # 512 MiB of zeros deflate to about half a megabyte: reading it whole took 1 GB and more.
    size = 512 << 20
    wheel = tmp_path / "dist" / "big-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from wheelmaker import make_wheel
        import zipfile, hashlib, base64
        path = make_wheel({str(wheel.parent)!r}, "big", "1.0")
        # Rebuild with one large zero member and a RECORD that matches it.
        digest = base64.urlsafe_b64encode(hashlib.sha256(bytes({size})).digest()).rstrip(b"=")
        with zipfile.ZipFile(path) as src:
            items = [(i, src.read(i)) for i in src.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for info, data in items:
                if info.filename.endswith("RECORD"):
                    data += b"big/zeros.bin,sha256=" + digest + b",{size}\\n"
                out.writestr(info, data)
            with out.open("big/zeros.bin", "w", force_zip64=True) as sink:
                for _ in range({size >> 20}):
                    sink.write(bytes(1 << 20))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    probe = textwrap.dedent(
        """
        import resource, subprocess, sys
        subprocess.run(sys.argv[1:], check=True, capture_output=True)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        """
    )
    made = tmp_path / "out" / "big-1.0-py3-none-any-v3.whl"
    for command in (
        [
            "wheel",
            "make-variant",
            str(wheel),
            "-p",
            PROPERTY,
            "--label",
            "v3",
            "-o",
            str(made.parent),
        ],
        ["wheel", "unmake", str(made), "-o", str(tmp_path / "plain")],
    ):
        peak_kib = subprocess.run(
            [sys.executable, "-c", probe, sys.executable, "-m", "fitwheel", *command],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert int(peak_kib) < 200 * 1024, f"{command[1]}: peak RSS {int(peak_kib) >> 10} MiB"
    with zipfile.ZipFile(tmp_path / "plain" / wheel.name) as plain:
        assert plain.getinfo("big/zeros.bin").file_size == size
