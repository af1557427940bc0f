"""PEP 825 ordering: compatibility, ranking, and the reasons for exclusion."""

from __future__ import annotations

from typing import Any

from fitwheel.variants.metadata import SCHEMA_PEP817, SCHEMA_PROVIDERS, parse_variants_document
from fitwheel.variants.ordering import rank
from fitwheel.variants.support import SupportedProperties


def doc(namespaces: list[str], variants: dict[str, Any], **extra: Any) -> Any:
    data = {
        "$schema": extra.pop("schema", SCHEMA_PROVIDERS),
        "default-priorities": {"namespace": namespaces},
        "variants": variants,
        **extra,
    }
    return parse_variants_document(data, where="test")


X86 = SupportedProperties.from_mapping({"x86_64": {"level": ["v3", "v2", "v1"], "avx2": ["on"]}})


def test_best_supported_value_wins_and_null_is_last() -> None:
    release = doc(
        ["x86_64"],
        {
            "v2": {"x86_64": {"level": ["v2"]}},
            "v3": {"x86_64": {"level": ["v3"]}},
            "v4": {"x86_64": {"level": ["v4"]}},
            "null": {},
        },
    )
    ranking = rank(release, X86)
    assert ranking.ranked == ("v3", "v2", "null")
    assert ranking.excluded == {
        "v4": "x86_64 :: level: none of v4 is supported (the target supports v3, v2, v1)"
    }


def test_more_properties_win_on_a_prefix() -> None:
    release = doc(
        ["x86_64"],
        {
            "short": {"x86_64": {"level": ["v3"]}},
            "long": {"x86_64": {"level": ["v3"], "avx2": ["on"]}},
        },
    )
    assert rank(release, X86).ranked == ("long", "short")


def test_full_tie_is_broken_by_label() -> None:
    release = doc(
        ["x86_64"], {"b": {"x86_64": {"level": ["v3", "v1"]}}, "a": {"x86_64": {"level": ["v3"]}}}
    )
    assert rank(release, X86).ranked == ("a", "b")


def test_namespace_order_beats_value_order() -> None:
    supported = SupportedProperties.from_mapping(
        {"nvidia": {"sm_arch": ["86_real", "80_real"]}, "x86_64": {"level": ["v3", "v2"]}}
    )
    release = doc(
        ["nvidia", "x86_64"],
        {"gpu": {"nvidia": {"sm_arch": ["80_real"]}}, "cpu": {"x86_64": {"level": ["v3"]}}},
    )
    assert rank(release, supported).ranked == ("gpu", "cpu")


def test_unsupported_namespace_reason() -> None:
    release = doc(["amd"], {"rocm": {"amd": {"gfx_arch": ["gfx942"]}}, "null": {}})
    ranking = rank(release, X86, provided_namespaces={"x86_64", "amd"})
    assert ranking.ranked == ("null",)
    assert ranking.excluded == {"rocm": "the target supports nothing in namespace 'amd'"}


def test_unknown_provider_is_the_reason_never_a_silent_fallback() -> None:
    release = doc(
        ["acme"],
        {"fast": {"acme": {"accel": ["on"]}}, "null": {}},
        providers={"acme": {"requires": ["acme-provider"]}},
    )
    ranking = rank(release, X86, provided_namespaces={"x86_64"})
    assert ranking.ranked == ("null",)
    assert "acme-provider" in ranking.excluded["fast"]
    assert "does not have built in" in ranking.excluded["fast"]


def test_static_properties_are_supported_values_in_file_order() -> None:
    release = doc(
        ["blas"],
        {
            "mkl": {"blas": {"library": ["mkl"]}},
            "openblas": {"blas": {"library": ["openblas"]}},
            "atlas": {"blas": {"library": ["atlas"]}},
        },
        providers={"blas": {"static-properties": {"library": ["openblas", "mkl"]}}},
    )
    ranking = rank(release, SupportedProperties())
    assert ranking.ranked == ("openblas", "mkl")
    assert "atlas" in ranking.excluded


def test_optional_provider_is_off_unless_enabled() -> None:
    supported = SupportedProperties.from_mapping({"nvidia": {"sm_arch": ["86_real"]}})
    release = doc(
        ["nvidia"],
        {"cu": {"nvidia": {"sm_arch": ["86_real"]}}, "null": {}},
        providers={"nvidia": {"requires": ["nvidia-variant-provider"], "optional": True}},
    )
    off = rank(release, supported)
    assert off.ranked == ("null",)
    assert "optional and not enabled" in off.excluded["cu"]
    assert rank(release, supported, enabled_optional={"nvidia"}).ranked == ("cu", "null")


def test_enable_if_marker_is_evaluated_against_the_target_environment() -> None:
    supported = SupportedProperties.from_mapping({"nvidia": {"sm_arch": ["86_real"]}})
    release = doc(
        ["nvidia"],
        {"cu": {"nvidia": {"sm_arch": ["86_real"]}}},
        providers={"nvidia": {"requires": ["p"], "enable-if": 'sys_platform == "linux"'}},
        schema=SCHEMA_PEP817,
    )
    assert rank(release, supported, environment={"sys_platform": "linux"}).ranked == ("cu",)
    windows = rank(release, supported, environment={"sys_platform": "win32"})
    assert windows.ranked == ()
    assert "enable-if" in windows.excluded["cu"]


def test_pep817_feature_and_property_priorities_reorder_the_profile() -> None:
    supported = SupportedProperties.from_mapping(
        {"nvidia": {"cuda": ["12.8", "12.6"], "sm_arch": ["86_real", "80_real"]}}
    )
    release = parse_variants_document(
        {
            "$schema": SCHEMA_PEP817,
            "default-priorities": {
                "namespace": ["nvidia"],
                "feature": {"nvidia": ["sm_arch"]},
                "property": {"nvidia": {"sm_arch": ["80_real"]}},
            },
            "variants": {
                "a": {"nvidia": {"cuda": ["12.8"], "sm_arch": ["86_real"]}},
                "b": {"nvidia": {"cuda": ["12.6"], "sm_arch": ["80_real"]}},
            },
        },
        where="t",
    )
    # sm_arch is ranked first, and 80_real is preferred over 86_real by the file.
    assert rank(release, supported).ranked == ("b", "a")


# PEP 825's own example (section "Variant metadata" / "Index-level metadata"): the property
# priority ["mkl", "openblas"] overrides the provider's value order.
PEP825_EXAMPLE: dict[str, Any] = {
    "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
    "default-priorities": {
        "namespace": ["x86_64", "aarch64", "blas_lapack"],
        "feature": {"blas_lapack": ["library"]},
        "property": {"blas_lapack": {"library": ["mkl", "openblas"]}},
    },
    "variants": {
        "x8664v3_openblas": {"blas_lapack": {"library": ["openblas"]}, "x86_64": {"level": ["v3"]}},
        "x8664v3_mkl": {"blas_lapack": {"library": ["mkl"]}, "x86_64": {"level": ["v3"]}},
    },
}


def test_pep825_property_priority_overrides_the_value_order() -> None:
    release = parse_variants_document(PEP825_EXAMPLE, where="pep825")
    target = SupportedProperties.from_mapping(
        {"x86_64": {"level": ["v3"]}, "blas_lapack": {"library": ["openblas", "mkl"]}}
    )
    assert rank(release, target).ranked == ("x8664v3_mkl", "x8664v3_openblas")


def test_pep825_feature_priority_overrides_the_feature_order() -> None:
    data = {
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["x86_64"], "feature": {"x86_64": ["avx2"]}},
        "variants": {
            "lvl": {"x86_64": {"level": ["v3"]}},
            "avx": {"x86_64": {"avx2": ["on"]}},
        },
    }
    # X86 lists level before avx2; the document puts avx2 first.
    assert rank(parse_variants_document(data, where="t"), X86).ranked == ("avx", "lvl")
    del data["default-priorities"]["feature"]  # type: ignore[attr-defined]
    assert rank(parse_variants_document(data, where="t"), X86).ranked == ("lvl", "avx")


def test_property_priority_keeps_unlisted_values_after_the_listed_ones() -> None:
    data = {
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["x86_64"], "property": {"x86_64": {"level": ["v1"]}}},
        "variants": {f"l{v}": {"x86_64": {"level": [v]}} for v in ("v1", "v2", "v3")},
    }
    assert rank(parse_variants_document(data, where="t"), X86).ranked == ("lv1", "lv3", "lv2")
