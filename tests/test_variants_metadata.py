"""variants.json / variant.json documents in the three schema generations, and merging."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fitwheel.errors import InvalidVariantMetadata, VariantMetadataConflict
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import (
    SCHEMA_PEP817,
    SCHEMA_PEP825,
    SCHEMA_PROVIDERS,
    SchemaGeneration,
    document_to_json,
    dumps_variants_document,
    loads_variants_document,
    parse_variants_document,
)
from fitwheel.variants.properties import parse_property

PEP817_DOC: dict[str, Any] = {
    "$schema": SCHEMA_PEP817,
    "default-priorities": {
        "namespace": ["nvidia", "blas"],
        "feature": {"nvidia": ["sm_arch"]},
        "property": {"nvidia": {"sm_arch": ["90_real"]}},
    },
    "providers": {
        "nvidia": {
            "requires": ["nvidia-variant-provider"],
            "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
            "enable-if": 'platform_system == "Linux"',
            "install-time": True,
        }
    },
    "static-properties": {"blas": {"library": ["openblas", "mkl"]}},
    "variants": {
        "cu12": {"nvidia": {"sm_arch": ["80_real", "90_real"]}, "blas": {"library": ["mkl"]}},
        "null": {},
    },
}

PROVIDERS_DOC: dict[str, Any] = {
    "$schema": SCHEMA_PROVIDERS,
    "default-priorities": {"namespace": ["x86_64", "blas"]},
    "providers": {
        "x86_64": {
            "requires": ["x86-64-variant-provider"],
            "plugin-api": "x86_64_variant_provider",
        },
        "blas": {
            "static-properties": {"library": ["openblas"], "variant": ["lp64"]},
            "feature-order": ["library", "variant"],
        },
        "gpu": {"requires": ["some-provider"], "optional": True},
    },
    "variants": {"v3": {"x86_64": {"level": ["v3"]}}},
}

PEP825_DOC: dict[str, Any] = {
    "$schema": SCHEMA_PEP825,
    "default-priorities": {"namespace": ["nvidia"]},
    "variants": {"cuda12.8": {"nvidia": {"cuda_version_lower_bound": ["12.8"]}}, "null": {}},
}


def test_reads_pep817_generation() -> None:
    doc = parse_variants_document(PEP817_DOC, where="t")
    assert doc.generation is SchemaGeneration.PEP817
    assert doc.namespace_priorities == ("nvidia", "blas")
    assert doc.feature_priorities == {"nvidia": ("sm_arch",)}
    assert doc.value_priorities["nvidia"]["sm_arch"] == ("90_real",)
    assert doc.static_properties["blas"]["library"] == ("openblas", "mkl")
    assert doc.providers["nvidia"].enable_if == 'platform_system == "Linux"'
    assert doc.variants["cu12"].properties == {
        parse_property("nvidia::sm_arch::80_real"),
        parse_property("nvidia::sm_arch::90_real"),
        parse_property("blas::library::mkl"),
    }
    assert doc.variants["null"].is_null


def test_reads_providers_generation() -> None:
    doc = parse_variants_document(PROVIDERS_DOC, where="t")
    assert doc.generation is SchemaGeneration.PROVIDERS
    assert doc.static_properties["blas"] == {"library": ("openblas",), "variant": ("lp64",)}
    assert doc.feature_priorities["blas"] == ("library", "variant")
    assert doc.providers["gpu"].optional
    assert doc.providers["x86_64"].plugin_api == "x86_64_variant_provider"


def test_reads_pep825_generation() -> None:
    doc = parse_variants_document(PEP825_DOC, where="t")
    assert doc.generation is SchemaGeneration.PEP825
    assert set(doc.variants) == {"cuda12.8", "null"}


@pytest.mark.parametrize("source", [PEP817_DOC, PROVIDERS_DOC, PEP825_DOC])
def test_round_trip_in_own_schema(source: dict[str, Any]) -> None:
    doc = parse_variants_document(source, where="t")
    again = loads_variants_document(dumps_variants_document(doc), where="again")
    assert again == doc


def test_write_in_another_generation_keeps_variants() -> None:
    doc = parse_variants_document(PEP817_DOC, where="t")
    as_825 = document_to_json(doc, schema=SCHEMA_PEP825)
    assert "providers" in as_825  # provider identities survive for installers that need them
    assert "static-properties" not in as_825
    assert parse_variants_document(as_825, where="t").variants == doc.variants


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d.update({"$schema": "https://variants-schema.wheelnext.dev/v1.0.0.json"}),
            "major version 1",
        ),
        (lambda d: d.pop("$schema"), "$schema"),
        (lambda d: d.update({"$schema": "https://example.com/other"}), "unrecognised $schema"),
        (lambda d: d["variants"].update({"bad": {"nvidia": {"x": ["BAD"]}}}), "BAD"),
        (lambda d: d["variants"].update({"BAD": {"nvidia": {"x": ["1"]}}}), "BAD"),
        (lambda d: d["variants"].update({"null": {"nvidia": {"x": ["1"]}}}), "reserved"),
        (lambda d: d["variants"].update({"empty": {}}), "reserved"),
        (
            lambda d: d["variants"].update({"amd": {"amd": {"gfx_arch": ["gfx942"]}}}),
            "not listed in default-priorities",
        ),
        (lambda d: d.update({"variants": []}), "variants"),
        (
            lambda d: d["default-priorities"].update({"namespace": ["nvidia", "nvidia"]}),
            "duplicate",
        ),
    ],
)
def test_invalid_documents_are_named_errors(mutate: Any, message: str) -> None:
    data = json.loads(json.dumps(PEP825_DOC))
    mutate(data)
    with pytest.raises(InvalidVariantMetadata) as info:
        parse_variants_document(data, where="rel-1.0-variants.json")
    assert message in str(info.value)
    assert "rel-1.0-variants.json" in str(info.value)


def test_malformed_json_is_a_named_error() -> None:
    with pytest.raises(InvalidVariantMetadata, match="not valid JSON"):
        loads_variants_document(b"{not json", where="x.json")


def test_variant_json_has_exactly_one_label() -> None:
    doc = parse_variants_document(PEP825_DOC, where="t")
    with pytest.raises(InvalidVariantMetadata, match="exactly one"):
        _ = doc.single_label


def _doc(namespaces: list[str], variants: dict[str, Any]) -> Any:
    return parse_variants_document(
        {
            "$schema": SCHEMA_PEP825,
            "default-priorities": {"namespace": namespaces},
            "variants": variants,
        },
        where="t",
    )


def test_merge_takes_longer_priority_list_and_union_of_labels() -> None:
    a = _doc(["nvidia"], {"cu": {"nvidia": {"sm_arch": ["80_real"]}}})
    b = _doc(["nvidia", "amd"], {"rocm": {"amd": {"gfx_arch": ["gfx942"]}}, "null": {}})
    merged = merge_documents(a, b)
    assert merged.namespace_priorities == ("nvidia", "amd")
    assert set(merged.variants) == {"cu", "rocm", "null"}
    assert merge_documents(b, a) == merged


def test_merge_rejects_non_prefix_priorities() -> None:
    a = _doc(["nvidia", "amd"], {})
    b = _doc(["amd", "nvidia"], {})
    with pytest.raises(VariantMetadataConflict, match="prefixes"):
        merge_documents(a, b)


def test_merge_rejects_one_label_with_two_property_sets() -> None:
    a = _doc(["nvidia"], {"cu": {"nvidia": {"sm_arch": ["80_real"]}}})
    b = _doc(["nvidia"], {"cu": {"nvidia": {"sm_arch": ["90_real"]}}})
    with pytest.raises(VariantMetadataConflict, match="'cu'"):
        merge_documents(a, b)


def _providers_doc(providers: dict[str, Any], variants: dict[str, Any] | None = None) -> Any:
    return {
        "$schema": SCHEMA_PROVIDERS,
        "default-priorities": {"namespace": sorted(providers)},
        "providers": providers,
        "variants": variants or {"null": {}},
    }


NVIDIA_ENTRY = {
    "requires": ["nvidia-variant-provider"],
    "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
}

# One invalid document per structural rule of the providers draft and the PEP 825 schema,
# with the words its error must contain. variantlib 0.2.2 refuses each of them too.
RULE_CORPUS: list[tuple[str, Any, str]] = [
    (
        "requires-and-static",
        _providers_doc(
            {
                "nvidia": {
                    **NVIDIA_ENTRY,
                    "static-properties": {"cuda_version_lower_bound": ["12.8"]},
                }
            },
            {"cu128": {"nvidia": {"cuda_version_lower_bound": ["12.8"]}}, "null": {}},
        ),
        "exactly one of requires, static-properties, builtin or build-requires",
    ),
    (
        "plugin-api-and-static",
        _providers_doc(
            {"blas": {"plugin-api": "blas_p", "static-properties": {"impl": ["mkl"]}}},
        ),
        "plugin-api is valid only with requires",
    ),
    ("empty-provider", _providers_doc({"blas": {}}), "found none of them"),
    (
        "plugin-api-without-requires",
        _providers_doc({"blas": {"plugin-api": "blas_provider:Plugin"}}),
        "plugin-api is valid only with requires",
    ),
    (
        "feature-order-without-static",
        _providers_doc({"blas": {"requires": ["blas-p"], "feature-order": ["impl"]}}),
        "feature-order is valid only with static-properties",
    ),
    (
        "feature-order-not-the-static-features",
        _providers_doc(
            {
                "blas": {
                    "static-properties": {"impl": ["mkl"], "abi": ["lp64"]},
                    "feature-order": ["impl"],
                }
            }
        ),
        "feature-order must list exactly the static features",
    ),
    (
        "invalid-plugin-api",
        _providers_doc({"blas": {"requires": ["blas-p"], "plugin-api": "not a reference!"}}),
        "is not an object reference",
    ),
    (
        "empty-requires",
        _providers_doc({"blas": {"requires": []}}),
        "at least one non-empty requirement",
    ),
    (
        "machine-namespace-static",
        _providers_doc(
            {"nvidia": {"static-properties": {"cuda_version_lower_bound": ["12.8"]}}},
            {"cu128": {"nvidia": {"cuda_version_lower_bound": ["12.8"]}}},
        ),
        "can never be static",
    ),
    (
        "duplicate-variant-values",
        _providers_doc(
            {"x86_64": {"requires": ["x86-64-variant-provider"]}},
            {"v": {"x86_64": {"level": ["v3", "v3"]}}},
        ),
        "lists a value twice",
    ),
    (
        "duplicate-static-values",
        _providers_doc({"blas": {"static-properties": {"impl": ["mkl", "mkl"]}}}),
        "duplicate",
    ),
    (
        "duplicate-property-priority",
        {
            **PEP825_DOC,
            "default-priorities": {
                "namespace": ["nvidia"],
                "property": {"nvidia": {"sm_arch": ["a", "a"]}},
            },
        },
        "duplicate",
    ),
    (
        "duplicate-feature-priority",
        {
            **PEP825_DOC,
            "default-priorities": {"namespace": ["nvidia"], "feature": {"nvidia": ["f", "f"]}},
        },
        "duplicate",
    ),
    (
        "pep817-provider-and-top-level-static",
        {
            **PEP817_DOC,
            "static-properties": {"nvidia": {"sm_arch": ["90_real"]}},
        },
        "exactly one of",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"), [c[1:] for c in RULE_CORPUS], ids=[c[0] for c in RULE_CORPUS]
)
def test_rule_corpus_is_refused_naming_the_rule(data: Any, message: str) -> None:
    with pytest.raises(InvalidVariantMetadata, match=re.escape(message)):
        parse_variants_document(json.loads(json.dumps(data)), where="f.json")


@pytest.mark.parametrize(
    "data", [c[1] for c in RULE_CORPUS[:8]], ids=[c[0] for c in RULE_CORPUS[:8]]
)
def test_variantlib_refuses_the_provider_rule_corpus_too(data: Any) -> None:
    from variantlib.errors import ValidationError
    from variantlib.variants_json import VariantsJson

    with pytest.raises((ValidationError, ValueError)):
        VariantsJson(json.loads(json.dumps(data)))


def test_pep825_priority_overrides_survive_a_round_trip() -> None:
    data = {
        **PEP825_DOC,
        "default-priorities": {
            "namespace": ["nvidia"],
            "feature": {"nvidia": ["sm_arch"]},
            "property": {"nvidia": {"sm_arch": ["90_real", "80_real"]}},
        },
    }
    doc = parse_variants_document(data, where="t")
    assert doc.feature_priorities == {"nvidia": ("sm_arch",)}
    assert doc.value_priorities["nvidia"]["sm_arch"] == ("90_real", "80_real")
    assert loads_variants_document(dumps_variants_document(doc), where="again") == doc


def test_static_namespace_survives_writing_as_pep825() -> None:
    doc = parse_variants_document(PROVIDERS_DOC, where="t")
    again = parse_variants_document(document_to_json(doc, schema=SCHEMA_PEP825), where="t")
    assert again.static_properties == doc.static_properties
