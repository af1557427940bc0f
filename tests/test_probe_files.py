"""Pseudo-files under a sysroot read with a bound and without blocking: a FIFO, a device, a huge
file or bytes that are not text in place of `/proc` and `/sys` files never hang, exhaust
memory or raise; they are unknown facts."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from fitwheel.runtime import PSEUDO_FILE_LIMIT, read_pseudo_file
from helpers.cli import fitwheel as run_fitwheel

SYSROOTS = Path(__file__).parent / "detect_sysroots"
fitwheel = functools.partial(run_fitwheel, check=True, clean=True, timeout=30)


def detect_facts(sysroot: Path) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(
        fitwheel("detect", "--format", "json", "--sysroot", sysroot).stdout
    )["facts"]
    return facts


def test_read_is_bounded_on_a_device_and_a_large_file(tmp_path: Path) -> None:
    assert read_pseudo_file("/dev/zero", 10_000) == bytes(10_000)
    assert len(read_pseudo_file("/dev/zero") or b"") == PSEUDO_FILE_LIMIT
    big = tmp_path / "big"
    big.write_bytes(b"x" * (3 * PSEUDO_FILE_LIMIT))
    assert len(read_pseudo_file(str(big)) or b"") == PSEUDO_FILE_LIMIT
    assert read_pseudo_file(str(tmp_path / "absent")) is None
    assert read_pseudo_file(str(tmp_path)) is None  # a folder


def test_read_stops_at_the_marker_across_reads(tmp_path: Path) -> None:
    path = tmp_path / "cpuinfo"
    path.write_bytes(b"a" * 4095 + b"\n\n" + b"b" * 10_000)
    data = read_pseudo_file(str(path), until=b"\n\n") or b""
    # The marker straddles the first two reads of 4 KiB: reading stops after the second.
    assert data.startswith(b"a" * 4095 + b"\n\n") and len(data) == 8192


@pytest.mark.timeout(30)
def test_a_fifo_without_a_writer_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert read_pseudo_file(str(fifo)) == b""


@pytest.fixture
def sysroot(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SYSROOTS / "gpu-node", root, symlinks=True)
    return root


def test_detect_with_a_fifo_as_cpuinfo_finishes(sysroot: Path) -> None:
    cpuinfo = sysroot / "proc/cpuinfo"
    cpuinfo.unlink()
    os.mkfifo(cpuinfo)
    facts = detect_facts(sysroot)
    assert "flags" in facts["cpu"]["unknown"]


def test_detect_with_dev_zero_and_a_huge_one_line_cpuinfo(sysroot: Path) -> None:
    cpuinfo = sysroot / "proc/cpuinfo"
    cpuinfo.unlink()
    cpuinfo.symlink_to("/dev/zero")
    assert "flags" in detect_facts(sysroot)["cpu"]["unknown"]
    cpuinfo.unlink()
    cpuinfo.write_bytes(b"flags\t: " + b"sse2 " * (20 * PSEUDO_FILE_LIMIT // 5))
    detect_facts(sysroot)  # reads the first MiB only


def test_driver_files_that_are_not_text_are_no_version(sysroot: Path) -> None:
    version = sysroot / "sys/module/nvidia/version"
    version.parent.mkdir(parents=True, exist_ok=True)
    version.write_bytes(b"\xff\xfe570.86.10\x80\n")
    proc = sysroot / "proc/driver/nvidia/version"
    proc.parent.mkdir(parents=True, exist_ok=True)
    proc.write_bytes(b"NVRM version: NVIDIA \xff Kernel Module  \xff550.54.14  Thu\n")
    assert "kernel_driver_version" not in detect_facts(sysroot)["nvidia"]
    properties = next((sysroot / "sys/class/kfd/kfd/topology/nodes").glob("*/properties"))
    properties.write_bytes(b"gfx_target_version " + b"9" * 5000 + b"\n\xff\xfe")
    rocm = next(sysroot.glob("opt/rocm*/.info/version"))
    rocm.write_bytes(b"\xff" * 10 + b"6.2")
    detect_facts(sysroot)
