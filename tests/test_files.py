"""Atomic writes: readable modes, and a failure that leaves the old file and no debris."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fitwheel.files import atomic_file, write_atomically


def test_the_new_file_has_the_mode_open_would_give(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_atomically(tmp_path / "page.html", b"<html>")
        os.umask(0o077)
        write_atomically(tmp_path / "private.json", b"{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "page.html").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
    assert (tmp_path / "page.html").read_bytes() == b"<html>"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "variants.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as stream:
        stream.write(b"half of the new")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["variants.json"]
