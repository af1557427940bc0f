"""`fitwheel index build` killed at random moments, and run twice at once on one folder.

The source folder flips between two generations that differ in every way an incremental
build meets: files added and removed, a wheel rebuilt under the same name, a release whose
variants.json gains a label. Each run is a real `python -m fitwheel index build` process
(with worker processes: there are enough files), SIGKILLed a random moment after it takes
the output folder's lock (until at least KILLS runs were killed before finishing); then the
output folder is checked as a client would read it (`helpers.index_check`), and no process
of the build may outlive it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.index_check import index_problems
from helpers.processes import alive_in_session
from helpers.variants import make_variant, plain_wheel
from wheelmaker import make_wheel

pytestmark = pytest.mark.slow

PROJECTS = 20
VERSIONS = 30
KILLS = 24


def _plain_generation(src: Path, scratch: Path, which: int, name: str) -> None:
    """One project's files: generation 1 drops 1.0, rebuilds 1.1 (other bytes, same name) and
    adds 2.x."""
    base = scratch / f"{name}-{which}"
    if not base.exists():
        base.mkdir(parents=True)
        make_wheel(base, name, "0", files={f"{name}/__init__.py": f"gen = {which}\n"})
    data = next(base.iterdir()).read_bytes()
    for version in range(VERSIONS):
        path = src / f"{name}-1.{version}-py3-none-any.whl"
        if which == 1 and version == 0:
            path.unlink(missing_ok=True)
        elif version == 1 or not path.exists():
            path.write_bytes(data)
    for version in range(5):
        path = src / f"{name}-2.{version}-py3-none-any.whl"
        if which == 1:
            path.write_bytes(data)
        else:
            path.unlink(missing_ok=True)


def _generation(src: Path, scratch: Path, which: int) -> None:
    """Make `src` hold generation `which` (0 or 1) of the catalog."""
    for project in range(PROJECTS):
        _plain_generation(src, scratch, which, f"proj{project}")
    variants = scratch / "variants"
    if not variants.exists():
        base = plain_wheel(scratch, "vpkg", "1.0")
        for value in ("v1", "v2", "v3"):
            make_variant(base, variants, f"x86_64 :: level :: {value}", label=f"l{value}")
    for value in ("v1", "v2", "v3"):
        name = f"vpkg-1.0-py3-none-any-l{value}.whl"
        if which == 0 and value == "v3":
            (src / name).unlink(missing_ok=True)  # the release's variants.json changes
        elif not (src / name).exists():
            (src / name).write_bytes((variants / name).read_bytes())


def _holds_lock(pid: int) -> bool:
    """Whether process `pid` holds a `flock` (the build's lock on its output folder)."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[1] == "FLOCK" and fields[4] == str(pid):
            return True
    return False


def _start(src: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "fitwheel", "index", "build", str(src), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killed_builds_leave_a_consistent_index(tmp_path: Path) -> None:
    src, out, scratch = tmp_path / "src", tmp_path / "out", tmp_path / "scratch"
    src.mkdir()
    _generation(src, scratch, 0)
    assert _start(src, out).wait(timeout=120) == 0
    started = time.monotonic()
    _generation(src, scratch, 1)
    assert _start(src, out).wait(timeout=120) == 0
    full = time.monotonic() - started  # an incremental build, start to end
    assert index_problems(out) == []

    seed = int(os.environ.get("FITWHEEL_KILL_SEED", random.randrange(1 << 30)))
    chance = random.Random(seed)
    window = full  # how long after taking the lock a kill may come; shrunk when a build wins
    verdicts, orphans, killed, runs = [], [], 0, 0
    while killed < KILLS and runs < 3 * KILLS:
        _generation(src, scratch, runs % 2)
        runs += 1
        build = _start(src, out)
        deadline = time.monotonic() + 30
        while not _holds_lock(build.pid) and build.poll() is None:
            assert time.monotonic() < deadline, "the build never took its lock"
            time.sleep(0.002)
        time.sleep(chance.uniform(0, window))
        build.send_signal(signal.SIGKILL)
        if build.wait(timeout=60) == 0:
            window *= 0.7
        else:
            killed += 1
        deadline = time.monotonic() + 1
        while (left := alive_in_session(build.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans += left
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        verdicts.append(index_problems(out))
    print(
        f"seed {seed}: {killed} builds killed while holding the lock, {runs - killed} finished "
        f"first; {sum(not v for v in verdicts)}/{len(verdicts)} indexes consistent"
    )
    assert killed >= KILLS, f"only {killed} kills landed inside a build (seed {seed})"
    assert orphans == [], f"worker processes outlived their build (seed {seed})"
    assert [v for v in verdicts if v] == [], f"inconsistent index after a kill (seed {seed})"

    _generation(src, scratch, 1)
    assert _start(src, out).wait(timeout=120) == 0
    assert index_problems(out) == []
    assert not [p for p in out.rglob(".*.tmp")], "temporary files left behind"
    page = (out / "proj3" / "index.json").read_text()
    assert "proj3-2.4-py3-none-any.whl" in page and "proj3-1.0-py3" not in page
    assert "vpkg-1.0-py3-none-any-lv3.whl" in (out / "vpkg" / "index.json").read_text()


def test_two_builds_of_one_folder_take_turns(tmp_path: Path) -> None:
    src, out, scratch = tmp_path / "src", tmp_path / "out", tmp_path / "scratch"
    src.mkdir()
    waited = 0
    for run in range(6):
        _generation(src, scratch, run % 2)
        builds = [_start(src, out), _start(src, out)]
        for build in builds:
            _, stderr = build.communicate(timeout=120)
            assert build.returncode == 0, stderr.decode()
            assert b"Traceback" not in stderr
            waited += b"waiting for another index build" in stderr
        assert index_problems(out) == []
    assert waited >= 1
