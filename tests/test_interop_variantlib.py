"""fitwheel and variantlib 0.2.2 read each other's variant wheels and variants.json files.

Everything here runs the real tools: `variantlib` (its console script, from the same venv)
and `python -m fitwheel`, on real wheels written by `wheelmaker.make_wheel` or built by pip.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fitwheel.variants.known_providers import KNOWN_PROVIDERS
from fitwheel.variants.metadata import loads_variants_document
from fitwheel.variants.properties import VariantDescription, parse_property
from fitwheel.wheel.variant import read_wheel_variant
from wheelmaker import make_wheel, verify_record

# Each case runs variantlib and real wheel builds beside fitwheel.
pytestmark = pytest.mark.slow

VARIANTLIB = Path(sys.executable).with_name("variantlib")
NAMESPACES = ("nvidia", "x86_64")

# Hash labels worked out by hand from variantlib's rule (sha256 over the sorted property
# lines, first 8 hex digits; docs/format.md); the first is a published test vector.
BLAS_V3 = ("blas_lapack :: library :: openblas", "x86_64 :: level :: v3")
BLAS_V3_LABEL = "35ba9e9a"
CU128_V3 = ("nvidia :: cuda_version_lower_bound :: 12.8", "x86_64 :: level :: v3")
CU128_V3_LABEL = "0325ea07"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, check=False, timeout=120
    )


def fitwheel(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "fitwheel", *args)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def pyproject(directory: Path, namespaces: tuple[str, ...] = NAMESPACES) -> Path:
    """A pyproject.toml for `variantlib make-variant`.

    Its provider tables are exactly the ones fitwheel writes for these namespaces, so that
    documents from the two tools describe providers the same way and merging them is about
    the variants alone (variantlib's own merge also refuses two descriptions of a provider).
    """
    lines = ["[variant.default-priorities]", f"namespace = {json.dumps(list(namespaces))}"]
    for namespace in namespaces:
        table = KNOWN_PROVIDERS[namespace].provider_table()
        lines += [
            f"[variant.providers.{namespace}]",
            f"requires = {json.dumps(table['requires'])}",
            f"plugin-api = {json.dumps(table['plugin-api'])}",
        ]
    path = directory / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def variantlib_make(
    wheel: Path, outdir: Path, properties: tuple[str, ...], *, label: str | None = None
) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    args: list[str | Path] = [VARIANTLIB, "make-variant", "-f", wheel, "-o", outdir]
    args += ["--pyproject-toml", pyproject(wheel.parent), "--skip-plugin-validation"]
    if properties:
        for prop in properties:
            args += ["-p", prop]
    else:
        args.append("--null-variant")
    if label is not None:
        args += ["--variant-label", label]
    before = set(outdir.glob("*.whl"))
    ok(run(*args))
    (made,) = set(outdir.glob("*.whl")) - before
    return made


def fitwheel_make(wheel: Path, outdir: Path, *options: str) -> Path:
    return Path(ok(fitwheel("wheel", "make-variant", wheel, "-o", outdir, *options)).strip())


def analyze(wheel: Path) -> tuple[str, list[str]]:
    """(label, properties) as `variantlib analyze-wheel` prints them; it must exit 0."""
    out = ok(run(VARIANTLIB, "analyze-wheel", "-i", wheel))
    lines = out.splitlines()
    match = re.fullmatch(r"#+ Variant: `(?P<label>[^`]+)` #+", lines[0])
    assert match is not None, out
    assert re.fullmatch(r"#+", lines[-1]), out
    return match["label"], lines[1:-1]


def description(*properties: str) -> VariantDescription:
    return VariantDescription.from_properties(properties)


@pytest.fixture
def plain_wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path / "src", "demo", "1.0")


# -- variantlib writes, fitwheel reads ---------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "label", "expected_label"),
    [
        pytest.param(CU128_V3, None, CU128_V3_LABEL, id="hash-label"),
        pytest.param(
            (
                "nvidia :: cuda_version_lower_bound :: 12.0",
                "nvidia :: sm_arch :: 90_real",
                "nvidia :: sm_arch :: 80_real",
            ),
            "cu126",
            "cu126",
            id="readable-label-multi-value",
        ),
        pytest.param((), None, "null", id="null"),
    ],
)
def test_fitwheel_reads_variantlib_wheel(
    plain_wheel: Path,
    tmp_path: Path,
    properties: tuple[str, ...],
    label: str | None,
    expected_label: str,
) -> None:
    made = variantlib_make(plain_wheel, tmp_path / "out", properties, label=label)
    assert made.name == f"demo-1.0-py3-none-any-{expected_label}.whl"

    variant = read_wheel_variant(made)
    assert variant.label == expected_label
    assert variant.description == description(*properties)
    assert variant.document is not None
    assert variant.document.namespace_priorities == NAMESPACES

    info = json.loads(ok(fitwheel("wheel", "inspect", "--format", "json", made)))
    assert info["label"] == expected_label
    assert info["variant"]["properties"] == sorted(str(parse_property(p)) for p in properties)
    assert info["variant"]["hash_label"] == description(*properties).hash_label()


def test_hash_label_matches_design_vector(plain_wheel: Path, tmp_path: Path) -> None:
    # blas_lapack has no provider fitwheel knows; variantlib needs one in pyproject.toml.
    pyproject_path = tmp_path / "src" / "pyproject.toml"
    outdir = tmp_path / "out"
    outdir.mkdir()
    pyproject_path.write_text(
        '[variant.default-priorities]\nnamespace = ["blas_lapack", "x86_64"]\n'
        '[variant.providers.blas_lapack]\nrequires = ["blas-lapack-variant-provider"]\n'
        '[variant.providers.x86_64]\nrequires = ["x86-64-variant-provider"]\n'
    )
    args: list[str | Path] = [VARIANTLIB, "make-variant", "-f", plain_wheel, "-o", outdir]
    args += ["--pyproject-toml", pyproject_path, "--skip-plugin-validation"]
    for prop in BLAS_V3:
        args += ["-p", prop]
    ok(run(*args))
    made = outdir / f"demo-1.0-py3-none-any-{BLAS_V3_LABEL}.whl"
    assert read_wheel_variant(made).description == description(*BLAS_V3)
    assert ok(fitwheel("variants", "label", *BLAS_V3)).strip() == BLAS_V3_LABEL


@pytest.mark.slow
def test_fitwheel_reads_variantlib_wheel_built_by_pip(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "pipdemo").mkdir(parents=True)
    (project / "pipdemo" / "__init__.py").write_text("answer = 42\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "pipdemo"\nversion = "2.0"\n'
    )
    dist = tmp_path / "dist"
    # pip takes a bare "proj" for a requirement name; "./proj" is a path.
    ok(
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            dist,
            "./proj",
            cwd=tmp_path,
        )
    )
    (built,) = dist.glob("*.whl")
    made = variantlib_make(built, tmp_path / "out", CU128_V3)
    assert made.name == f"pipdemo-2.0-py3-none-any-{CU128_V3_LABEL}.whl"
    variant = read_wheel_variant(made)
    assert variant.label == CU128_V3_LABEL
    assert variant.description == description(*CU128_V3)


# -- fitwheel writes, variantlib reads ---------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected_label", "expected_properties"),
    [
        pytest.param(
            ("-p", "nvidia::cuda_version_lower_bound::12.8", "-p", "x86_64 :: level :: v3"),
            CU128_V3_LABEL,
            list(CU128_V3),
            id="hash-label",
        ),
        pytest.param(
            (
                "--label",
                "cu128",
                "-p",
                "nvidia :: sm_arch :: 90_real",
                "-p",
                "nvidia :: cuda_version_lower_bound :: 12.8",
                "-p",
                "nvidia :: sm_arch :: 80_real",
            ),
            "cu128",
            [
                "nvidia :: cuda_version_lower_bound :: 12.8",
                "nvidia :: sm_arch :: 80_real",
                "nvidia :: sm_arch :: 90_real",
            ],
            id="readable-label-multi-value",
        ),
        pytest.param(
            ("--null", "--namespace-priority", "nvidia,x86_64"), "null", [], id="null-priorities"
        ),
    ],
)
def test_variantlib_reads_fitwheel_wheel(
    plain_wheel: Path,
    tmp_path: Path,
    options: tuple[str, ...],
    expected_label: str,
    expected_properties: list[str],
) -> None:
    made = fitwheel_make(plain_wheel, tmp_path / "out", *options)
    assert made.name == f"demo-1.0-py3-none-any-{expected_label}.whl"
    assert analyze(made) == (expected_label, expected_properties)
    assert verify_record(made) == []
    # Everything of the original wheel is still there, byte for byte.
    with zipfile.ZipFile(plain_wheel) as before, zipfile.ZipFile(made) as after:
        for name in before.namelist():
            if not name.endswith("/RECORD"):
                assert after.read(name) == before.read(name), name
        assert "demo-1.0.dist-info/variant.json" in after.namelist()


def test_null_without_namespaces_is_refused(plain_wheel: Path, tmp_path: Path) -> None:
    # An empty default-priorities.namespace is what variantlib 0.2.2 (and uv) reject; fitwheel
    # used to write one for a bare --null and now asks for the release's namespaces instead.
    result = fitwheel("wheel", "make-variant", plain_wheel, "-o", tmp_path / "out", "--null")
    assert result.returncode == 2
    assert "--namespace-priority" in result.stderr
    assert not list((tmp_path / "out").glob("*.whl"))


def test_variantlib_unmakes_fitwheel_wheel(plain_wheel: Path, tmp_path: Path) -> None:
    made = fitwheel_make(plain_wheel, tmp_path / "out", "-p", CU128_V3[0], "-p", CU128_V3[1])
    ok(run(VARIANTLIB, "unmake-variant", "-f", made, "-o", tmp_path / "out"))
    plain = tmp_path / "out" / plain_wheel.name
    assert read_wheel_variant(plain).document is None


# -- variants.json from either tool merges -----------------------------------------------------


def test_variants_json_from_both_tools_merge(plain_wheel: Path, tmp_path: Path) -> None:
    # Build machine A uses variantlib: a hash-labelled CUDA + x86-64 v3 build and the null one.
    a_dir = tmp_path / "a"
    variantlib_make(plain_wheel, a_dir, CU128_V3)
    variantlib_make(plain_wheel, a_dir, ())
    ok(run(VARIANTLIB, "generate-index-json", "-d", a_dir))
    a_json = a_dir / "demo-1.0-variants.json"

    # Build machine B uses fitwheel: two readable-label CUDA builds, nvidia only (a prefix of
    # A's namespace list), and the null one again (same label, same empty set: no conflict).
    b_dir = tmp_path / "b"
    for label, props in {
        "cu126": ("nvidia :: cuda_version_lower_bound :: 12.0", "nvidia :: sm_arch :: 60_real"),
        "cu130": ("nvidia :: cuda_version_lower_bound :: 13.0", "nvidia :: sm_arch :: 90_real"),
    }.items():
        fitwheel_make(plain_wheel, b_dir, "--label", label, *(f"-p{p}" for p in props))
    fitwheel_make(plain_wheel, b_dir, "--null", "--namespace-priority", "nvidia")
    ok(fitwheel("variants", "generate", b_dir))
    b_json = b_dir / "demo-1.0-variants.json"

    expected_labels = [CU128_V3_LABEL, "cu126", "cu130", "null"]  # sorted
    outputs = []
    for first, second in ((a_json, b_json), (b_json, a_json)):
        out = tmp_path / f"merged-{first.parent.name}.json"
        ok(fitwheel("variants", "merge", first, second, "-o", out))
        merged = loads_variants_document(out.read_text(), where=str(out))
        assert sorted(merged.variants) == expected_labels
        assert merged.namespace_priorities == NAMESPACES
        assert merged.variants[CU128_V3_LABEL] == description(*CU128_V3)
        assert merged.variants["cu130"] == description(
            "nvidia :: cuda_version_lower_bound :: 13.0", "nvidia :: sm_arch :: 90_real"
        )
        assert merged.variants["null"].is_null
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]

    # variantlib accepts the merged file as an index document too.
    from variantlib.variants_json import VariantsJson

    parsed = VariantsJson(json.loads(outputs[0]))
    assert sorted(parsed.variants) == expected_labels


def test_variants_json_merge_conflicting_label_fails(plain_wheel: Path, tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    variantlib_make(
        plain_wheel, a_dir, ("nvidia :: cuda_version_lower_bound :: 12.8",), label="cu128"
    )
    ok(run(VARIANTLIB, "generate-index-json", "-d", a_dir))
    fitwheel_make(
        plain_wheel,
        b_dir,
        "--label",
        "cu128",
        "-p",
        "nvidia :: cuda_version_lower_bound :: 12.0",
        "--namespace-priority",
        "nvidia,x86_64",
    )
    ok(fitwheel("variants", "generate", b_dir))
    result = fitwheel(
        "variants", "merge", a_dir / "demo-1.0-variants.json", b_dir / "demo-1.0-variants.json"
    )
    assert result.returncode == 2
    assert "'cu128'" in result.stderr
    assert "Traceback" not in result.stderr
