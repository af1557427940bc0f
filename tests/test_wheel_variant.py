"""`fitwheel wheel make-variant|unmake|inspect`, `variants generate|merge|label` and `rank`
on real wheels, through the real command line."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import fitwheel
from wheelmaker import make_wheel, verify_record

# Each test runs fitwheel (make-variant, rank, ...) as a real process.
pytestmark = pytest.mark.slow

CUDA = ["nvidia :: cuda_version_lower_bound :: 12.8", "nvidia :: sm_arch :: 86_real"]


def props(*items: str) -> list[str]:
    return [arg for item in items for arg in ("-p", item)]


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path / "dist", "demo", "1.0", tags="cp311-cp311-linux_x86_64")


def test_make_variant_writes_labelled_wheel_with_correct_record(
    wheel: Path, tmp_path: Path
) -> None:
    result = fitwheel(
        "wheel",
        "make-variant",
        str(wheel),
        "-o",
        str(tmp_path / "out"),
        *props(*CUDA),
        "--label",
        "cu128",
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out" / "demo-1.0-cp311-cp311-linux_x86_64-cu128.whl"
    assert Path(result.stdout.strip()) == out
    assert verify_record(out) == []
    with zipfile.ZipFile(out) as archive:
        variant = json.loads(archive.read("demo-1.0.dist-info/variant.json"))
        record = archive.read("demo-1.0.dist-info/RECORD").decode()
    assert variant["variants"] == {
        "cu128": {"nvidia": {"cuda_version_lower_bound": ["12.8"], "sm_arch": ["86_real"]}}
    }
    assert variant["default-priorities"] == {"namespace": ["nvidia"]}
    # The identity uv runs as its built-in nvidia provider.
    assert variant["providers"]["nvidia"] == {
        "requires": ["nvidia-variant-provider"],
        "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
    }
    assert "demo-1.0.dist-info/variant.json,sha256=" in record

    inspected = json.loads(fitwheel("wheel", "inspect", str(out), "--format", "json").stdout)
    assert inspected["label"] == "cu128"
    assert inspected["variant"]["properties"] == CUDA
    assert inspected["tags"] == ["cp311-cp311-linux_x86_64"]


def test_default_label_is_the_hash_label(wheel: Path, tmp_path: Path) -> None:
    label = fitwheel("variants", "label", *CUDA).stdout.strip()
    assert len(label) == 8
    result = fitwheel("wheel", "make-variant", str(wheel), "-o", str(tmp_path), *props(*CUDA))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"-{label}.whl")


def test_unmake_restores_the_plain_wheel(wheel: Path, tmp_path: Path) -> None:
    made = fitwheel(
        "wheel",
        "make-variant",
        str(wheel),
        "-o",
        str(tmp_path / "v"),
        "--null",
        "--namespace-priority",
        "nvidia",
    ).stdout.strip()
    assert made.endswith("-null.whl")
    result = fitwheel("wheel", "unmake", made, "-o", str(tmp_path / "plain"))
    assert result.returncode == 0, result.stderr
    plain = tmp_path / "plain" / wheel.name
    assert verify_record(plain) == []
    with zipfile.ZipFile(wheel) as original, zipfile.ZipFile(plain) as restored:
        assert sorted(original.namelist()) == sorted(restored.namelist())
        for name in original.namelist():
            if not name.endswith("RECORD"):
                assert original.read(name) == restored.read(name)
    inspected = json.loads(fitwheel("wheel", "inspect", str(plain), "--format", "json").stdout)
    assert inspected["variant"] is None and inspected["label"] is None


def _hostile(path: Path, member: zipfile.ZipInfo, data: bytes = b"x") -> Path:
    make_wheel(path.parent, "demo", "1.0")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(member, data)
    return path


def _symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("demo/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (zipfile.ZipInfo("/etc/evil"), "absolute path"),
        (zipfile.ZipInfo("demo/../../evil"), "leaves the install folder"),
        (_symlink_member(), "symbolic link"),
        (zipfile.ZipInfo("demo/__init__.py"), "duplicate"),
    ],
)
def test_hostile_archives_are_refused_and_nothing_is_written(
    tmp_path: Path, member: zipfile.ZipInfo, message: str
) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        bad = _hostile(tmp_path / "dist" / "demo-1.0-py3-none-any.whl", member)
    out = tmp_path / "out"
    result = fitwheel("wheel", "make-variant", str(bad), "-o", str(out), *props(*CUDA))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_variant_json_disagreeing_with_filename_is_an_error(wheel: Path, tmp_path: Path) -> None:
    made = Path(
        fitwheel(
            "wheel",
            "make-variant",
            str(wheel),
            "-o",
            str(tmp_path),
            *props(*CUDA),
            "--label",
            "cu128",
        ).stdout.strip()
    )
    renamed = made.with_name(made.name.replace("-cu128", "-cu126"))
    made.rename(renamed)
    result = fitwheel("wheel", "inspect", str(renamed))
    assert result.returncode == 2
    assert "variant.json says label 'cu128' but the filename says 'cu126'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "nvidia::sm_arch"], "invalid variant property"),
        ([], "give at least one"),
        (["--null", "-p", CUDA[0]], "--null"),
        (["--null"], "must list the release's namespaces"),
        (["-p", CUDA[0], "--label", "null"], "reserved"),
        (["-p", CUDA[0], "--label", "CU"], "invalid variant label"),
        (["-p", CUDA[0], "--namespace-priority", "x86_64"], "missing nvidia"),
    ],
)
def test_bad_make_variant_arguments(
    wheel: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = fitwheel("wheel", "make-variant", str(wheel), "-o", str(tmp_path / "o"), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_variant_wheel_is_not_made_a_variant_twice(wheel: Path, tmp_path: Path) -> None:
    made = fitwheel(
        "wheel",
        "make-variant",
        str(wheel),
        "-o",
        str(tmp_path),
        "--null",
        "--namespace-priority",
        "x86_64",
    ).stdout.strip()
    result = fitwheel("wheel", "make-variant", made, "-o", str(tmp_path / "again"), *props(*CUDA))
    assert result.returncode == 2 and "already a variant wheel" in result.stderr


def _release(tmp_path: Path) -> Path:
    dist = tmp_path / "release"
    plain = make_wheel(tmp_path / "plain", "torchish", "2.0", tags="cp311-cp311-linux_x86_64")
    builds = {
        "cuda12.6": [
            "nvidia :: cuda_version_lower_bound :: 12.0",
            *(f"nvidia :: sm_arch :: {a}_real" for a in (60, 61, 70, 75, 80, 86, 90)),
        ],
        "cuda12.8": [
            "nvidia :: cuda_version_lower_bound :: 12.0",
            *(f"nvidia :: sm_arch :: {a}_real" for a in (70, 75, 80, 86, 90, 100, 120)),
        ],
        "cuda13.0": [
            "nvidia :: cuda_version_lower_bound :: 13.0",
            *(f"nvidia :: sm_arch :: {a}_real" for a in (75, 80, 86, 90, 100, 120)),
        ],
        "rocm7.1": ["amd :: gfx_arch :: gfx942", "amd :: gfx_arch :: gfx90a"],
        "xpu": ["intel :: device_ip :: 12.55.8"],
    }
    for label, properties in builds.items():
        result = fitwheel(
            "wheel",
            "make-variant",
            str(plain),
            "-o",
            str(dist),
            *props(*properties),
            "--label",
            label,
            "--namespace-priority",
            "nvidia,intel,amd",
        )
        assert result.returncode == 0, result.stderr
    null = fitwheel(
        "wheel",
        "make-variant",
        str(plain),
        "-o",
        str(dist),
        "--null",
        "--namespace-priority",
        "nvidia,intel,amd",
    )
    assert null.returncode == 0, null.stderr
    return dist


@pytest.mark.slow
def test_generate_then_rank_for_several_machines(tmp_path: Path) -> None:
    dist = _release(tmp_path)
    result = fitwheel("variants", "generate", str(dist))
    assert result.returncode == 0, result.stderr
    variants_json = dist / "torchish-2.0-variants.json"
    assert result.stdout.strip() == str(variants_json)
    data = json.loads(variants_json.read_text())
    assert sorted(data["variants"]) == [
        "cuda12.6",
        "cuda12.8",
        "cuda13.0",
        "null",
        "rocm7.1",
        "xpu",
    ]
    assert data["default-priorities"]["namespace"] == ["nvidia", "intel", "amd"]

    def rank(profile: str) -> dict[str, Any]:
        path = tmp_path / "profile.toml"
        path.write_text(profile)
        out = fitwheel("rank", str(variants_json), "--profile", str(path), "--format", "json")
        assert out.returncode in (0, 1), out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    lower_12_8 = '["12.8", "12.7", "12.6", "12.5", "12.4", "12.3", "12.2", "12.1", "12.0", "12"]'
    ampere = rank(
        f'[variants.nvidia]\ncuda_version_lower_bound = {lower_12_8}\nsm_arch = ["86_real", "80_real", "86_virtual", "80_virtual"]\n'
    )
    assert ampere["ranked"] == ["cuda12.6", "cuda12.8", "null"]  # tie on properties: label decides
    pascal = rank(
        f'[variants.nvidia]\ncuda_version_lower_bound = {lower_12_8}\nsm_arch = ["61_real", "60_real", "61_virtual"]\n'
    )
    assert pascal["ranked"] == ["cuda12.6", "null"]
    assert "sm_arch" in pascal["excluded"]["cuda12.8"]
    none = rank("[variants]\n")
    assert none["ranked"] == ["null"]
    assert set(none["excluded"]) == {"cuda12.6", "cuda12.8", "cuda13.0", "rocm7.1", "xpu"}
    mi300 = rank('[variants.amd]\ngfx_arch = ["gfx942"]\n')
    assert mi300["ranked"] == ["rocm7.1", "null"]


def test_rank_exits_1_when_nothing_is_compatible(tmp_path: Path) -> None:
    document = tmp_path / "x-1-variants.json"
    document.write_text(
        json.dumps(
            {
                "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
                "default-priorities": {"namespace": ["x86_64"]},
                "variants": {"v4": {"x86_64": {"level": ["v4"]}}},
            }
        )
    )
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"variants": {"x86_64": {"level": ["v2", "v1"]}}}))
    result = fitwheel("rank", str(document), "--profile", str(profile))
    assert result.returncode == 1
    assert "v4: x86_64 :: level: none of v4 is supported" in result.stdout


@pytest.mark.slow
def test_generate_merges_existing_file_and_merge_command(tmp_path: Path) -> None:
    dist = _release(tmp_path)
    assert fitwheel("variants", "generate", str(dist)).returncode == 0
    first = dist / "torchish-2.0-variants.json"
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps(
            {
                "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
                "default-priorities": {"namespace": ["nvidia"]},
                "variants": {"cuda11.8": {"nvidia": {"cuda_version_lower_bound": ["11.8"]}}},
            }
        )
    )
    merged = fitwheel("variants", "merge", str(first), str(other), "-o", str(tmp_path / "m.json"))
    assert merged.returncode == 0, merged.stderr
    labels = sorted(json.loads((tmp_path / "m.json").read_text())["variants"])
    assert labels == ["cuda11.8", "cuda12.6", "cuda12.8", "cuda13.0", "null", "rocm7.1", "xpu"]
    conflict = tmp_path / "conflict.json"
    conflict.write_text(
        json.dumps(
            {
                "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
                "default-priorities": {"namespace": ["nvidia"]},
                "variants": {"cuda12.8": {"nvidia": {"cuda_version_lower_bound": ["12.8"]}}},
            }
        )
    )
    clash = fitwheel("variants", "merge", str(first), str(conflict))
    assert clash.returncode == 2 and "'cuda12.8'" in clash.stderr


def test_malformed_profile_and_json_are_one_line_errors(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad-1-variants.json"
    bad_json.write_text("{")
    profile = tmp_path / "p.toml"
    profile.write_text("[variants.x86_64]\nlevel = 3\n")
    result = fitwheel("rank", str(bad_json), "--profile", str(profile))
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    assert result.stderr.count("\n") == 1
    good_json = tmp_path / "good-1-variants.json"
    good_json.write_text(
        json.dumps(
            {
                "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
                "default-priorities": {"namespace": []},
                "variants": {"null": {}},
            }
        )
    )
    result = fitwheel("rank", str(good_json), "--profile", str(profile))
    assert result.returncode == 2 and "x86_64.level must be a list" in result.stderr


def test_rank_runs_profile_facts_through_the_built_in_providers(tmp_path: Path) -> None:
    dist = _release(tmp_path)
    assert fitwheel("variants", "generate", str(dist)).returncode == 0
    profile = tmp_path / "gtx1080ti.toml"
    profile.write_text(
        '[facts.nvidia]\ncuda_driver_version = "12.8"\ncompute_capabilities = ["6.1"]\n'
    )
    result = fitwheel(
        "rank",
        str(dist / "torchish-2.0-variants.json"),
        "--profile",
        str(profile),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    ranking = json.loads(result.stdout)
    # sm 6.1 runs 61_real/60_real SASS: only cuda12.6 lists 60_real/61_real.
    assert ranking["ranked"] == ["cuda12.6", "null"]
    assert ranking["excluded"]["cuda13.0"].startswith(
        "nvidia :: cuda_version_lower_bound: none of 13.0"
    )


# -- namespaces that describe the build: --static-property ------------------------------------

STATIC = ["blas :: impl :: openblas", "blas :: impl :: mkl", "blas :: int :: lp64"]


def _static_args() -> list[str]:
    return [arg for item in STATIC for arg in ("--static-property", item)]


def _variant_json(path: Path) -> dict[str, object]:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/variant.json"))
        return json.loads(archive.read(name))  # type: ignore[no-any-return]


def test_static_properties_are_written_per_namespace_with_feature_order(
    wheel: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    made = fitwheel(
        "wheel",
        "make-variant",
        str(wheel),
        "-o",
        str(out),
        "--label",
        "cu128mkl",
        *props("nvidia :: cuda_version_lower_bound :: 12.8", "blas :: impl :: mkl"),
        *_static_args(),
        "--namespace-priority",
        "nvidia,blas",
    )
    assert made.returncode == 0, made.stderr
    data = _variant_json(Path(made.stdout.strip()))
    assert data["$schema"] == "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
    providers = data["providers"]
    assert isinstance(providers, dict)
    assert providers["blas"] == {
        "static-properties": {"impl": ["openblas", "mkl"], "int": ["lp64"]},
        "feature-order": ["impl", "int"],
    }
    assert providers["nvidia"]["requires"] == ["nvidia-variant-provider"]
    null = fitwheel(
        "wheel", "make-variant", str(wheel), "-o", str(out), "--null", *_static_args(),
        "--namespace-priority", "nvidia,blas",
    )  # fmt: skip
    assert null.returncode == 0, null.stderr
    assert _variant_json(Path(null.stdout.strip()))["providers"] == providers
    # Valid for every reader: fitwheel's, and variants check finds nothing to say.
    assert fitwheel("variants", "generate", str(out)).returncode == 0
    assert fitwheel("wheel", "inspect", made.stdout.strip()).returncode == 0
    check = fitwheel("variants", "check", str(out), "--format", "json")
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["findings"] == []


def test_variantlib_reads_static_properties_fitwheel_wrote(wheel: Path, tmp_path: Path) -> None:
    variantlib = Path(sys.executable).with_name("variantlib")
    if not variantlib.exists():
        pytest.skip("variantlib is not installed in this environment")
    made = fitwheel(
        "wheel", "make-variant", str(wheel), "-o", str(tmp_path / "out"), "--label", "mkl",
        *props("blas :: impl :: mkl"), *_static_args(),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    analyzed = subprocess.run(
        [str(variantlib), "analyze-wheel", "-i", made.stdout.strip()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert analyzed.returncode == 0, analyzed.stderr
    assert "blas :: impl :: mkl" in analyzed.stdout + analyzed.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-p", "blas :: impl :: atlas"], "not one of them"),
        (["-p", "blas :: impl :: mkl", "--static-property", "x86_64 :: level :: v3"], "machine"),
        (["-p", "blas :: impl :: mkl", "--namespace-priority", "nvidia"], "missing blas"),
    ],
)
def test_bad_static_properties_are_one_line_errors(
    wheel: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    result = fitwheel(
        "wheel", "make-variant", str(wheel), "-o", str(tmp_path), "--label", "x", *_static_args(),
        *extra,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.whl"))


def test_rank_accepts_a_variant_wheel_as_its_help_says(wheel: Path, tmp_path: Path) -> None:
    made = fitwheel(
        "wheel",
        "make-variant",
        str(wheel),
        "-o",
        str(tmp_path / "out"),
        "-p",
        "x86_64 :: level :: v3",
        "--label",
        "v3",
    )
    assert made.returncode == 0, made.stderr
    variant = tmp_path / "out" / wheel.name.replace(".whl", "-v3.whl")
    profile = tmp_path / "p.toml"
    profile.write_text('[variants.x86_64]\nlevel = ["v3", "v2", "v1"]\n')
    result = fitwheel("rank", str(variant), "--profile", str(profile), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ranked"] == ["v3"]
    plain = fitwheel("rank", str(wheel), "--profile", str(profile))
    assert plain.returncode == 2 and "not a variant wheel" in plain.stderr
