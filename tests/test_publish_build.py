"""`fitwheel build` with a real PEP 517 backend (in-tree, so isolated builds need no index) that
records each variant's build environment in its wheel; plus a real gcc rejecting a variant."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fitwheel.wheel.variant import read_wheel_variant
from helpers.cli import fitwheel
from helpers.projects import built_environment, flag_project

pytestmark = pytest.mark.slow

TABLE = """
[variant.default-priorities]
namespace = ["x86_64", "nvidia"]

[variant.variants]
v3 = { x86_64 = { level = ["v3"] } }
v2 = { x86_64 = { level = ["v2"] } }
cu128 = { nvidia = { cuda_version_lower_bound = ["12.8"], sm_arch = ["86_real", "80_virtual"] } }
null = {}
"""


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def build(project: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return fitwheel("build", project, *args, timeout=300, clean=True)


@pytest.mark.parametrize("isolation", [True, False], ids=["isolated", "no-isolation"])
def test_every_variant_is_built_with_its_flags(tmp_path: Path, isolation: bool) -> None:
    project = flag_project(tmp_path / "proj", TABLE)
    dist = tmp_path / "dist"
    extra = [] if isolation else ["--no-isolation"]
    result = build(project, "--all", "-o", dist, "-j", "2", "-C", "variant={label}", *extra)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in dist.iterdir())
    assert names == [
        "flagdemo-1.0-py3-none-any-cu128.whl",
        "flagdemo-1.0-py3-none-any-null.whl",
        "flagdemo-1.0-py3-none-any-v2.whl",
        "flagdemo-1.0-py3-none-any-v3.whl",
        "flagdemo-1.0-variants.json",
    ]
    v3 = built_environment(dist / "flagdemo-1.0-py3-none-any-v3.whl")
    assert v3["CFLAGS"] == "-march=x86-64-v3"
    assert v3["FITWHEEL_VARIANT_LABEL"] == "v3"
    assert v3["FITWHEEL_VARIANT_PROPERTIES"] == "x86_64 :: level :: v3"
    assert v3["config_settings"] == {"variant": "v3"}
    cuda = built_environment(dist / "flagdemo-1.0-py3-none-any-cu128.whl")
    assert cuda["CFLAGS"] is None
    assert cuda["TORCH_CUDA_ARCH_LIST"] == "8.0+PTX;8.6"
    assert "-DCMAKE_CUDA_ARCHITECTURES=80-virtual;86-real" in cuda["CMAKE_ARGS"]
    null = built_environment(dist / "flagdemo-1.0-py3-none-any-null.whl")
    assert null["CFLAGS"] is None and null["FITWHEEL_VARIANT_LABEL"] == "null"
    variant = read_wheel_variant(dist / "flagdemo-1.0-py3-none-any-v2.whl")
    assert variant.document is not None and variant.document.namespace_priorities == (
        "x86_64",
        "nvidia",
    )
    summary = result.stdout.splitlines()
    assert summary[0].split() == ["label", "properties", "wheel", "size", "time"]
    assert [line.split()[0] for line in summary[1:5]] == ["v3", "v2", "cu128", "null"]
    assert "flagdemo-1.0-py3-none-any-v3.whl" in summary[1]
    checked = fitwheel("variants", "check", dist)
    assert checked.returncode == 0, checked.stdout
    # Nothing left beside the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "proj"]


def test_one_variant_without_a_table_then_the_null_variant(tmp_path: Path) -> None:
    project = flag_project(tmp_path / "proj")
    dist = tmp_path / "dist"
    one = build(project, "-p", "x86_64 :: level :: v3", "--label", "fast", "-o", dist)
    assert one.returncode == 0, one.stderr
    null = build(project, "--null", "--namespace-priority", "x86_64", "-o", dist)
    assert null.returncode == 0, null.stderr
    document = json.loads((dist / "flagdemo-1.0-variants.json").read_text())
    assert document["variants"] == {"fast": {"x86_64": {"level": ["v3"]}}, "null": {}}
    assert built_environment(dist / "flagdemo-1.0-py3-none-any-fast.whl")["CFLAGS"] == (
        "-march=x86-64-v3"
    )


def test_a_failing_variant_stops_the_rest_and_writes_nothing(tmp_path: Path) -> None:
    project = flag_project(tmp_path / "proj", TABLE, {"fail": ["v2"], "sleep": {"v3": 60}})
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "other-1.0-py3-none-any.whl").write_bytes(b"not touched")
    before = listing(dist)
    start = time.monotonic()
    result = build(project, "--all", "-o", dist, "-j", "2")
    assert time.monotonic() - start < 45  # v3's build was killed, not waited for
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [
        "fitwheel: error: variant 'v2': the build backend failed (exit status 1): "
        "RuntimeError: error: flagdemo cannot be built for v2; nothing was written to "
        f"{dist}"
    ]
    assert listing(dist) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "proj"]
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "failed" in rows["v2"] and "stopped" in rows["v3"]


def test_keep_going_publishes_the_variants_that_built(tmp_path: Path) -> None:
    project = flag_project(tmp_path / "proj", TABLE, {"fail": ["v2"]})
    dist = tmp_path / "dist"
    result = build(project, "--all", "--keep-going", "-o", dist)
    assert result.returncode == 2
    assert "fitwheel: error: variant 'v2': the build backend failed" in result.stderr
    document = json.loads((dist / "flagdemo-1.0-variants.json").read_text())
    assert sorted(document["variants"]) == ["cu128", "null", "v3"]
    assert not (dist / "flagdemo-1.0-py3-none-any-v2.whl").exists()


def test_a_backend_that_makes_no_wheel(tmp_path: Path) -> None:
    project = flag_project(tmp_path / "proj", TABLE, {"no_wheel": ["cu128"]})
    result = build(project, "--variant", "cu128", "-o", tmp_path / "dist")
    assert result.returncode == 2
    assert (
        "fitwheel: error: variant 'cu128': the build backend must make exactly one wheel; "
        "it made none"
    ) in result.stderr
    assert not (tmp_path / "dist").exists()


def test_a_backend_that_ignores_the_flags_is_warned_about(tmp_path: Path) -> None:
    project = flag_project(tmp_path / "proj", TABLE, {"ignore_flags": True})
    result = build(project, "--variant", "v3", "--variant", "v2", "-o", tmp_path / "dist")
    assert result.returncode == 0, result.stderr
    assert (
        "fitwheel: warning: variants 'v3' and 'v2' built byte-identical files although their "
        "properties differ"
    ) in result.stderr
    honest = flag_project(tmp_path / "honest", TABLE)
    result = build(honest, "--variant", "v3", "--variant", "v2", "-o", tmp_path / "dist2")
    assert "warning" not in result.stderr


def test_a_label_that_changes_meaning_in_the_output_is_refused(tmp_path: Path) -> None:
    project = flag_project(tmp_path / "proj", TABLE)
    dist = tmp_path / "dist"
    first = build(project, "-p", "x86_64 :: level :: v4", "--label", "v3", "-o", dist)
    assert first.returncode == 0, first.stderr
    before = listing(dist)
    result = build(project, "--variant", "v3", "-o", dist)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("fitwheel: error: ") and "'v3'" in line
    assert listing(dist) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all"], "no [variant] table"),
        ([], "say what to build"),
        (["--null"], "no [variant] table"),
        (["-p", "x86_64 :: level :: v9"], "cannot map 'x86_64 :: level :: v9'"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    project = flag_project(tmp_path / "proj")
    result = build(project, *args, "-o", tmp_path / "dist")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert message in line
    assert not (tmp_path / "dist").exists()


C_PROJECT = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tinyc"\nversion = "1.0"\n'
        '[variant.default-priorities]\nnamespace = ["x86_64", "aarch64"]\n'
        "[variant.variants]\n"
        'v2 = { x86_64 = { level = ["v2"] } }\n'
        'armv82 = { aarch64 = { version = ["8.2a"] } }\n'
    ),
    "setup.py": (
        "from setuptools import Extension, setup\n"
        "setup(ext_modules=[Extension('tinyc', ['tinyc.c'])])\n"
    ),
    "tinyc.c": (
        "#include <Python.h>\n"
        'static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "tinyc"};\n'
        "PyMODINIT_FUNC PyInit_tinyc(void) { return PyModule_Create(&m); }\n"
    ),
}


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.skipif(
    sys.platform != "linux", reason="the other architecture's flags are Linux gcc's"
)
def test_flags_the_compiler_rejects_name_the_variant(tmp_path: Path) -> None:
    project = tmp_path / "tinyc"
    project.mkdir()
    for name, text in C_PROJECT.items():
        (project / name).write_text(text)
    import fitwheel.runtime

    machine = fitwheel.runtime.interpreter_machine()
    if machine not in ("x86_64", "aarch64"):
        pytest.skip("the test builds the other one of x86_64/aarch64")
    foreign = "armv82" if machine == "x86_64" else "v2"
    result = build(project, "--all", "--no-isolation", "-o", tmp_path / "dist")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"fitwheel: error: variant {foreign!r}: the build backend failed")
    assert "-march=" in line  # the compiler's own complaint about the flag
    assert not (tmp_path / "dist").exists()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_ctrl_c_kills_the_running_builds_and_writes_nothing(tmp_path: Path) -> None:
    import signal

    project = flag_project(tmp_path / "proj", TABLE, {"sleep": {"v3": 120, "v2": 120}})
    dist = tmp_path / "dist"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fitwheel",
            "build",
            str(project),
            "--all",
            "-j",
            "2",
            "-v",
            "-o",
            str(dist),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    started = [process.stderr.readline() for _ in range(2)]
    assert all(line.endswith(": started\n") for line in started), started
    time.sleep(1)  # the backends are inside their sleep now
    start = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    assert time.monotonic() - start < 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]
    time.sleep(0.5)
    assert processes_mentioning("fitwheel-build-") == []  # no backend left running


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (the builds' temporary folders)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in line and str(Path(cmdline).parent.name) != str(os.getpid()):
            found.append(line)
    return found


def test_the_default_output_is_the_projects_dist_and_is_not_copied(tmp_path: Path) -> None:
    project = flag_project(tmp_path / "proj", TABLE)
    for label in ("v3", "v2"):  # the second build's copy of the project must not hold dist/
        result = build(project, "--variant", label)
        assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (project / "dist").iterdir())
    assert names == [
        "flagdemo-1.0-py3-none-any-v2.whl",
        "flagdemo-1.0-py3-none-any-v3.whl",
        "flagdemo-1.0-variants.json",
    ]


def test_a_project_with_its_own_build_module_still_builds(tmp_path: Path) -> None:
    """`python -m build` must find pypa/build, not the project's `build.py` (poetry-style)."""
    project = flag_project(tmp_path / "proj", TABLE)
    (project / "build.py").write_text('raise SystemExit("the project\'s build.py ran")\n')
    result = build(project, "--variant", "v3", "-o", tmp_path / "dist")
    assert result.returncode == 0, result.stderr


def test_the_library_reports_progress_and_outcomes(tmp_path: Path) -> None:
    from fitwheel import build_variants, load_variant_table, plan_from_table
    from fitwheel.publish.builder import Status

    project = flag_project(tmp_path / "proj", TABLE, {"fail": ["cu128"]})
    events: list[tuple[str, str]] = []
    plan = plan_from_table(load_variant_table(project), labels=["v3", "cu128", "null"])
    report = build_variants(
        project,
        plan,
        tmp_path / "dist",
        keep_going=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("FITWHEEL_")},
        progress=lambda label, event: events.append((label, event)),
    )
    assert events == [
        ("v3", "started"),
        ("v3", "built"),
        ("cu128", "started"),
        ("cu128", "failed"),
        ("null", "started"),
        ("null", "built"),
    ]
    by_label = {o.label: o for o in report.outcomes}
    assert [o.label for o in report.outcomes] == ["v3", "cu128", "null"]
    assert by_label["v3"].status is Status.BUILT and by_label["v3"].wheel is not None
    assert by_label["v3"].size == by_label["v3"].wheel.stat().st_size > 0
    failed = by_label["cu128"]
    assert failed.status is Status.FAILED and failed.wheel is None
    assert failed.error is not None and failed.error.label == "cu128"
    assert "flagdemo cannot be built for cu128" in failed.log  # the backend's whole output
    assert report.variants_json == (tmp_path / "dist" / "flagdemo-1.0-variants.json",)
    assert not report.ok and report.failures == (failed,)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_a_compiled_build_that_drops_the_flags_is_warned_about(tmp_path: Path) -> None:
    """Real gcc output, debug information included, is byte-identical when the flags are lost:
    every build of one worker runs in the same folder."""
    import fitwheel.runtime

    if fitwheel.runtime.interpreter_machine() != "x86_64":
        pytest.skip("the variants are x86-64 levels")
    project = tmp_path / "tinyc"
    project.mkdir()
    for name, text in C_PROJECT.items():
        (project / name).write_text(text)
    setup = project / "setup.py"
    setup.write_text('import os\nos.environ.pop("CFLAGS", None)\n' + setup.read_text())
    table = project / "pyproject.toml"
    table.write_text(table.read_text() + 'v3 = { x86_64 = { level = ["v3"] } }\n')
    result = build(
        project, "--variant", "v2", "--variant", "v3", "--no-isolation", "-o", tmp_path / "dist"
    )
    assert result.returncode == 0, result.stderr
    assert "warning: variants 'v2' and 'v3' built byte-identical files" in result.stderr
