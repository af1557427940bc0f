"""Fixed vectors for the provider identities uv 0.13.9 runs as built-ins (see docs/uv-interop.md)."""

from __future__ import annotations

import pytest

from fitwheel.variants.known_providers import (
    KNOWN_PROVIDERS,
    builtin_refusal,
    effective_plugin_api,
    identify_provider,
    recognised_by_uv,
    requirement_name,
)

NVIDIA_API = "nvidia_variant_provider.plugin:NvidiaVariantPlugin"


@pytest.mark.parametrize(
    ("requires", "plugin_api", "expected"),
    [
        # recognised by uv 0.13.9 (each one installed the right build in an experiment)
        (["nvidia-variant-provider"], NVIDIA_API, "nvidia"),
        (["nvidia_variant_provider"], NVIDIA_API, "nvidia"),
        (["NVIDIA.Variant_Provider"], NVIDIA_API, "nvidia"),
        (["nvidia-variant-provider>=0.0.1,<1.0.0"], NVIDIA_API, "nvidia"),
        (["nvidia-variant-provider==0.0.1"], NVIDIA_API, "nvidia"),
        (["x86-64-variant-provider"], None, "x86_64"),
        (["x86_64-variant-provider"], None, "x86_64"),
        (["x86-64-variant-provider"], "x86_64_variant_provider", "x86_64"),
        (["aarch64-variant-provider"], None, "aarch64"),
        (["aarch64-variant-provider"], "aarch64_variant_provider", "aarch64"),
        (["tpu-variant-provider"], "tpu_variant_provider.plugin:TpuVariantPlugin", "tpu"),
        # not recognised: uv logged "Skipping unsupported wheel variant provider" and chose null
        (["nvidia-variant-provider"], None, None),
        (["nvidia-variant-provider"], "nvidia_variant_provider.plugin", None),
        (["nvidia-variant-provider"], "foo.bar:Baz", None),
        (["my-nvidia-provider"], NVIDIA_API, None),
        (["nvidia-variant-provider", "extra-thing"], NVIDIA_API, None),
        (["nvidia-variant-provider; python_version >= '3.9'"], NVIDIA_API, None),
        (["nvidia-variant-provider[x]"], NVIDIA_API, None),
        (["x86-64-variant-provider"], "x86_64_variant_provider.plugin:X8664Plugin", None),
        (["provider-variant-x86-64"], "provider_variant_x86_64.plugin:X8664Plugin", None),
        (["provider-variant-aarch64"], "provider_variant_aarch64.plugin:AArch64Plugin", None),
        (["tpu-variant-provider"], None, None),
        ([], None, None),
    ],
)
def test_identify_provider(
    requires: list[str], plugin_api: str | None, expected: str | None
) -> None:
    assert identify_provider(requires, plugin_api) == expected


def test_namespace_must_match() -> None:
    # uv skipped the nvidia identity under namespace `cuda`, and x86_64's under `nvidia`
    assert recognised_by_uv("nvidia", ["nvidia-variant-provider"], NVIDIA_API)
    assert not recognised_by_uv("cuda", ["nvidia-variant-provider"], NVIDIA_API)
    assert not recognised_by_uv("nvidia", ["x86-64-variant-provider"], None)


def test_written_tables_identify_themselves() -> None:
    for namespace, provider in KNOWN_PROVIDERS.items():
        table = provider.provider_table()
        assert identify_provider(provider.requires, provider.plugin_api) == namespace
        assert table == {"requires": list(provider.requires), "plugin-api": provider.plugin_api}


def test_requirement_name() -> None:
    assert requirement_name(" Foo.Bar_baz >= 1 , <2 ") == "foo-bar-baz"
    assert requirement_name("foo @ https://example.com/foo.whl") is None
    assert effective_plugin_api(["x86-64-variant-provider>=1"], None) == "x86_64_variant_provider"


@pytest.mark.parametrize(
    ("namespace", "requires", "plugin_api", "served"),
    [
        ("nvidia", ["nvidia-variant-provider"], NVIDIA_API, True),
        ("nvidia", ["nvidia-variant-provider"], None, True),  # uv skips it, fitwheel serves
        ("nvidia", [], "nvidia_variant_provider.plugin:NvidiaVariantPlugin", True),
        ("nvidia", [], None, True),
        ("x86_64", ["provider-variant-x86-64"], "provider_variant_x86_64.plugin:X8664Plugin", True),
        ("aarch64", ["provider-variant-aarch64"], None, True),
        ("amd", ["some-rocm-provider"], None, True),  # no identity known for amd
        ("nvidia", ["x86-64-variant-provider"], None, False),
        ("nvidia", ["acme-gpu"], "acme_gpu:Plugin", False),
        ("x86_64", ["nvidia-variant-provider"], NVIDIA_API, False),
    ],
)
def test_builtin_refusal(
    namespace: str, requires: list[str], plugin_api: str | None, served: bool
) -> None:
    assert (builtin_refusal(namespace, requires, plugin_api) is None) is served
