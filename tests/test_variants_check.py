"""`fitwheel.variants.check` on documents shaped like the ones uv 0.13.9 was tried with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from fitwheel.variants.check import Severity, WheelMetadata, check_document, check_release

PEP825 = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"
PROVIDERS = "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
NVIDIA = {
    "requires": ["nvidia-variant-provider"],
    "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
}
CU128 = {"nvidia": {"cuda_version_lower_bound": ["12.8"]}}


def doc(
    variants: dict[str, Any], providers: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    namespaces = sorted({ns for v in variants.values() for ns in v}) or ["nvidia"]
    data: dict[str, Any] = {"$schema": PROVIDERS, "default-priorities": {"namespace": namespaces}}
    if providers is not None:
        data["providers"] = providers
    data.update(extra)
    data["variants"] = variants
    return data


def messages(data: dict[str, Any], severity: Severity) -> list[str]:
    _, findings = check_document(data, where="f.json")
    return [f.message for f in findings if f.severity is severity]


def test_good_document_has_no_findings() -> None:
    assert messages(doc({"cu128": CU128, "null": {}}, {"nvidia": NVIDIA}), Severity.ERROR) == []
    assert messages(doc({"cu128": CU128, "null": {}}, {"nvidia": NVIDIA}), Severity.WARNING) == []


def test_pep825_only_file_is_an_error_with_the_fix() -> None:
    data = doc({"cu128": CU128, "null": {}})
    data["$schema"] = PEP825
    (message,) = messages(data, Severity.ERROR)
    assert "silently installs the null variant" in message
    assert "nvidia_variant_provider.plugin:NvidiaVariantPlugin" in message


def test_wrong_identity_is_an_error() -> None:
    data = doc({"cu128": CU128}, {"nvidia": {"requires": ["nvidia-variant-provider"]}})
    assert any("not the identity" in m for m in messages(data, Severity.ERROR))


def test_unknown_namespace_is_a_warning_suggesting_static_properties() -> None:
    data = doc(
        {"a": {"amd": {"gfx_arch": ["gfx942"]}}, "null": {}}, {"amd": {"requires": ["amd-p"]}}
    )
    assert messages(data, Severity.ERROR) == []
    (message,) = messages(data, Severity.WARNING)
    assert "static-properties" in message


def test_static_properties_need_feature_order_for_uv() -> None:
    blas = {"blas": {"library": ["openblas"], "int": ["lp64"]}}
    data = doc({"ob": blas, "null": {}}, {"blas": {"static-properties": blas["blas"]}})
    assert any("feature-order" in m for m in messages(data, Severity.ERROR))
    data["providers"]["blas"]["feature-order"] = ["library", "int"]
    assert messages(data, Severity.ERROR) == []


def test_shapes_uv_cannot_parse() -> None:
    data = doc({"cu128": CU128}, {"nvidia": {**NVIDIA, "enable-if": "platform_system == 'Linux'"}})
    assert any("enable-if" in m for m in messages(data, Severity.ERROR))
    data = doc({"cu128": CU128}, {"nvidia": {**NVIDIA, "requires": "nvidia-variant-provider"}})
    assert any("is a string" in m for m in messages(data, Severity.ERROR))
    data = doc({"null": {}})
    data["default-priorities"]["namespace"] = []
    assert any("is empty" in m for m in messages(data, Severity.ERROR))


def test_provider_table_must_cover_every_namespace() -> None:
    data = doc({"both": {**CU128, "foo": {"bar": ["on"]}}, "null": {}}, {"nvidia": NVIDIA})
    assert any("exactly the namespaces" in m for m in messages(data, Severity.ERROR))


def test_values_uv_never_reports_are_warned() -> None:
    ptx = {"nvidia": {"sm_arch": ["86_virtual"]}}
    data = doc({"ptx": ptx, "null": {}}, {"nvidia": NVIDIA})
    assert any("never reports" in m for m in messages(data, Severity.WARNING))
    ok = {"nvidia": {"sm_arch": ["86_virtual", "80_virtual"]}}
    assert messages(doc({"ptx": ok, "null": {}}, {"nvidia": NVIDIA}), Severity.WARNING) == []


def test_release_wheel_without_provider_table_fails_in_uv() -> None:
    index = doc({"cu128": CU128, "null": {}}, {"nvidia": NVIDIA})
    wheel_doc = {
        "$schema": PEP825,
        "default-priorities": {"namespace": ["nvidia"]},
        "variants": {"cu128": CU128},
    }
    report = check_release(
        index, [WheelMetadata("demo-1.0-py3-none-any-cu128.whl", wheel_doc)], where="r.json"
    )
    assert report.failed
    assert any("requires unsupported properties" in f.message for f in report.errors)


def test_release_label_mismatch_and_missing_variants_json() -> None:
    index = doc({"cu128": CU128, "null": {}}, {"nvidia": NVIDIA})
    other = doc({"cu128": {"nvidia": {"cuda_version_lower_bound": ["12.6"]}}}, {"nvidia": NVIDIA})
    wheel = WheelMetadata("demo-1.0-py3-none-any-cu128.whl", other)
    assert any(
        "in the wheel but" in f.message for f in check_release(index, [wheel], where="r").errors
    )
    missing = check_release(None, [wheel], where="dir")
    assert any("without {name}-{version}-variants.json" in f.message for f in missing.errors)


def test_cli_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "demo-1.0-variants.json"
    bad.write_text(json.dumps({**doc({"cu128": CU128, "null": {}}), "$schema": PEP825}))
    result = subprocess.run(
        [sys.executable, "-m", "fitwheel", "variants", "check", str(bad), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["ok"] is False


def test_static_namespace_is_not_flagged_but_a_value_outside_it_is() -> None:
    static = {"static-properties": {"impl": ["openblas", "mkl"]}}
    good = doc(
        {"ob": {"blas": {"impl": ["openblas"]}}, "mkl": {"blas": {"impl": ["mkl"]}}, "null": {}},
        {"blas": static},
    )
    _, findings = check_document(good, where="f.json")
    assert findings == []
    dead = doc({"atlas": {"blas": {"impl": ["atlas"]}}, "null": {}}, {"blas": static})
    warnings = messages(dead, Severity.WARNING)
    assert len(warnings) == 1
    assert "no installer ever installs" in warnings[0]
    assert messages(dead, Severity.ERROR) == []


def test_pep825_priority_overrides_are_not_called_pep817_era() -> None:
    data = doc({"cu128": CU128, "null": {}}, {"nvidia": NVIDIA})
    data["$schema"] = PEP825
    data["default-priorities"]["property"] = {"nvidia": {"cuda_version_lower_bound": ["12.8"]}}
    (message,) = [m for m in messages(data, Severity.ERROR) if "default-priorities" in m]
    assert "PEP 817" not in message
    assert "PEP 825's optional override of the value order" in message
    assert "uv 0.13.9 reject" in message


def test_gpu_namespace_both_required_and_static_fails_check(tmp_path: Path) -> None:
    # The file that ranked cu128 first on a machine with no GPU.
    gpu = {**NVIDIA, "static-properties": {"cuda_version_lower_bound": ["12.8"]}}
    bad = tmp_path / "demo-1.0-variants.json"
    bad.write_text(json.dumps(doc({"cu128": CU128, "null": {}}, {"nvidia": gpu})))
    result = subprocess.run(
        [sys.executable, "-m", "fitwheel", "variants", "check", str(bad)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "exactly one of requires, static-properties" in result.stdout
    profile = tmp_path / "cpu.toml"
    profile.write_text('[variants.x86_64]\nlevel = ["v1"]\n')
    ranked = subprocess.run(
        [sys.executable, "-m", "fitwheel", "rank", str(bad), "--profile", str(profile)],
        capture_output=True,
        text=True,
    )
    assert ranked.returncode == 2
    assert ranked.stderr.count("\n") == 1 and "exactly one of" in ranked.stderr


def test_garbage_variant_json_in_a_folder_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    from wheelmaker import make_wheel

    made = make_wheel(
        tmp_path / "scratch", "demo", "1.0", files={"demo-1.0.dist-info/variant.json": "{garbage"}
    )
    (tmp_path / "dist").mkdir()
    made.rename(tmp_path / "dist" / "demo-1.0-py3-none-any-v3.whl")
    result = subprocess.run(
        [sys.executable, "-m", "fitwheel", "variants", "check", str(tmp_path / "dist")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "demo-1.0-py3-none-any-v3.whl: error:" in result.stdout
    assert "variant.json: not valid JSON" in result.stdout
