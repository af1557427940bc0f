"""Which provider entries fitwheel's built-in providers serve, seen through `rank` and `explain`.

A release's `providers.<namespace>` entry is mapped to fitwheel's built-in provider by namespace
and by the known provider identities (`fitwheel.variants.known_providers`): the built-in serves
an entry that names its provider project (any plugin-api or version, or a former name) or no
provider at all; an entry naming another namespace's provider, or an unknown plugin for a
namespace that has a known one, excludes those variants with the reason in the output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import fitwheel
from wheelmaker import make_wheel

SCHEMA = "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
NVIDIA = {
    "requires": ["nvidia-variant-provider"],
    "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
}
X86 = {"requires": ["x86-64-variant-provider"], "plugin-api": "x86_64_variant_provider"}
PROFILE = {
    "facts": {
        "cpu": {"architecture": "x86_64", "x86_64_level": "v3"},
        "nvidia": {"cuda_driver_version": "12.8", "compute_capabilities": ["8.6"]},
        "tpu": {"present": False},
    }
}


def release(namespace: str, properties: dict[str, list[str]], provider: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"$schema": SCHEMA, "default-priorities": {"namespace": [namespace]}}
    if provider is not None:
        data["providers"] = {namespace: provider}
    data["variants"] = {"fast": {namespace: properties}, "null": {}}
    return data


CUDA = {"cuda_version_lower_bound": ["12.8"]}
LEVEL = {"level": ["v3"]}

CASES: dict[str, tuple[str, dict[str, list[str]], Any, str | None]] = {
    # id: (namespace, properties, provider entry, None = served / a phrase of the reason)
    "known identity": ("nvidia", CUDA, NVIDIA, None),
    "no provider table (PEP 825 only)": ("nvidia", CUDA, None, None),
    "project without uv's plugin-api": ("nvidia", CUDA, {"requires": ["nvidia-variant-provider"]}, None),
    "project with extras and a version": (
        "nvidia", CUDA, {"requires": ["nvidia-variant-provider[cuda]>=0.1"], "plugin-api": "x:Y"}, None,
    ),
    "former name of the x86-64 provider": (
        "x86_64", LEVEL,
        {"requires": ["provider-variant-x86-64"], "plugin-api": "provider_variant_x86_64.plugin:X8664Plugin"},
        None,
    ),
    "another namespace's provider": (
        "nvidia", CUDA, X86, "names the provider of namespace 'x86_64'",
    ),
    "unknown plugin for a known namespace": (
        "nvidia", CUDA, {"requires": ["acme-gpu"], "plugin-api": "acme_gpu:Plugin"},
        "is a provider fitwheel does not know",
    ),
    "known identity under another namespace": (
        "cuda", CUDA, NVIDIA, "the provider of namespace 'nvidia'",
    ),
    "uv's tpu provider, built in": (
        "tpu", {"present": ["false"]},
        {"requires": ["tpu-variant-provider"], "plugin-api": "tpu_variant_provider.plugin:TpuVariantPlugin"},
        None,
    ),
    "a third-party provider fitwheel lacks": (
        "blas", {"impl": ["mkl"]},
        {"requires": ["blas-variant-provider"], "plugin-api": "blas_variant_provider:Plugin"},
        "that fitwheel does not have built in",
    ),
}  # fmt: skip


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(PROFILE))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_rank_serves_or_names_the_reason(case: str, profile: Path, tmp_path: Path) -> None:
    namespace, properties, provider, reason = CASES[case]
    document = tmp_path / "demo-1.0-variants.json"
    document.write_text(json.dumps(release(namespace, properties, provider)))
    result = fitwheel("rank", str(document), "--profile", str(profile), "--format", "json")
    assert result.returncode == 0, result.stderr
    ranking = json.loads(result.stdout)
    if reason is None:
        assert ranking["ranked"] == ["fast", "null"]
    else:
        assert ranking["ranked"] == ["null"]
        assert reason in ranking["excluded"]["fast"]
        text = fitwheel("rank", str(document), "--profile", str(profile))
        assert reason in text.stdout


def test_explain_names_the_provider_it_will_not_use(profile: Path, tmp_path: Path) -> None:
    links = tmp_path / "links"
    wheel = make_wheel(tmp_path / "plain", "demo", "1.0")
    for label in ("fast", "null"):
        links.mkdir(exist_ok=True)
        (links / f"demo-1.0-py3-none-any-{label}.whl").write_bytes(wheel.read_bytes())
    entry = {"requires": ["acme-gpu"], "plugin-api": "acme_gpu:Plugin"}
    (links / "demo-1.0-variants.json").write_text(json.dumps(release("nvidia", CUDA, entry)))
    result = fitwheel(
        "explain", "demo", "--index-url", str(links), "--profile", str(profile), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    choice = json.loads(result.stdout)["releases"][0]
    assert choice["chosen"]["label"] == "null"
    reasons = {r["filename"]: r["reason"] for r in choice["rejected"]}
    assert "acme-gpu" in reasons["demo-1.0-py3-none-any-fast.whl"]
    assert "does not know" in reasons["demo-1.0-py3-none-any-fast.whl"]
