"""fitwheel's PEP 825 ordering agrees with variantlib 0.2.2, on generated and hand-checked releases.

Conventions of `variantlib.resolver.lib.sort_and_filter_supported_variants` these tests follow:

- Its `supported_vprops` list order fixes feature and value order within a namespace (first
  appearance), which is what `SupportedProperties.from_properties` does, so both sides get the
  same list.
- Every namespace of a supported property must be in `namespace_priorities` (it raises
  otherwise), so the generated priorities always list the whole namespace alphabet.
- It adds `abi_dependency` properties for the installed distributions (and
  `$VARIANT_ABI_DEPENDENCY`); no generated property uses that namespace, and the variable is
  unset while it runs.
- It always adds the null variant. fitwheel ranks exactly the labels of the document, so the
  null variant is ranked only when the release lists it (real `variants.json` files always do).
  The comparison therefore gives fitwheel the release with `"null"` added when it is missing,
  and checks separately that without it fitwheel's order is variantlib's minus `"null"`.
- With `property_priorities`, variantlib sorts values only inside runs of consecutive properties
  of one feature, so a provider that interleaves features would get a different value order
  there. Providers list a feature's values together; when value priorities are drawn, the
  supported list is regrouped by feature (first appearance) to match that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from variantlib.models.variant import VariantDescription as VLDescription
from variantlib.models.variant import VariantProperty as VLProperty
from variantlib.resolver.lib import sort_and_filter_supported_variants

from fitwheel.variants.metadata import SCHEMA_PEP825, parse_variants_document
from fitwheel.variants.ordering import rank, rank_descriptions
from fitwheel.variants.properties import NULL_LABEL, VariantDescription, VariantProperty
from fitwheel.variants.support import SupportedProperties

# Thousands of generated cases, each ranked by both fitwheel and variantlib.
pytestmark = pytest.mark.slow

NAMESPACES = ("a", "b", "c")
FEATURES = ("f", "g")
VALUES = ("0", "1", "2", "3")
ALL_PROPERTIES = tuple(
    VariantProperty(n, f, v) for n in NAMESPACES for f in FEATURES for v in VALUES
)
LABEL_ALPHABET = "ab01._"


def variantlib_order(
    variants: Mapping[str, VariantDescription],
    supported: Sequence[VariantProperty],
    priorities: Sequence[str],
    feature_priorities: Mapping[str, Sequence[str]] | None = None,
    value_priorities: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> list[str]:
    """variantlib's labels, best first (it appends the null variant itself)."""
    vdescs = [
        VLDescription(
            [VLProperty(p.namespace, p.feature, p.value) for p in sorted(d.properties)],
            label=label,
        )
        for label, d in variants.items()
    ]
    with pytest.MonkeyPatch.context() as env:
        env.delenv("VARIANT_ABI_DEPENDENCY", raising=False)
        assert "VARIANT_ABI_DEPENDENCY" not in os.environ
        result = sort_and_filter_supported_variants(
            vdescs,
            [VLProperty(p.namespace, p.feature, p.value) for p in supported],
            list(priorities),
            feature_priorities=(
                {ns: list(f) for ns, f in feature_priorities.items()}
                if feature_priorities
                else None
            ),
            property_priorities=(
                {ns: {f: list(v) for f, v in t.items()} for ns, t in value_priorities.items()}
                if value_priorities
                else None
            ),
        )
    return [d.label for d in result]


def grouped_by_feature(properties: Sequence[VariantProperty]) -> list[VariantProperty]:
    """The same properties with each feature's values together, in first-appearance order."""
    groups: dict[tuple[str, str], list[VariantProperty]] = {}
    for prop in properties:
        groups.setdefault(prop.feature_key, []).append(prop)
    return [prop for group in groups.values() for prop in group]


@st.composite
def releases(draw: st.DrawFn) -> dict[str, Any]:
    priorities = tuple(draw(st.permutations(NAMESPACES)))
    supported = draw(st.lists(st.sampled_from(ALL_PROPERTIES), unique=True, max_size=18))
    # Mostly supported properties, so that most variants are compatible and the order matters.
    some_property = st.sampled_from(ALL_PROPERTIES)
    if supported:
        likely = st.sampled_from(supported)
        some_property = st.one_of(likely, likely, likely, some_property)
    sets = draw(st.lists(st.frozensets(some_property, max_size=4), max_size=8, unique=True))
    if draw(st.booleans()):
        # Readable labels: ties between different property sets are broken by these.
        names = draw(
            st.lists(
                st.text(LABEL_ALPHABET, min_size=1, max_size=3).filter(lambda s: s != NULL_LABEL),
                min_size=len(sets),
                max_size=len(sets),
                unique=True,
            )
        )
    else:
        names = [VariantDescription(s).hash_label() for s in sets]
    variants = {
        (name if s else NULL_LABEL): VariantDescription(s)
        for name, s in zip(names, sets, strict=True)
    }
    feature_priorities: dict[str, tuple[str, ...]] = {}
    value_priorities: dict[str, dict[str, tuple[str, ...]]] = {}
    if draw(st.booleans()):
        for ns in draw(st.lists(st.sampled_from(NAMESPACES), unique=True)):
            feature_priorities[ns] = tuple(
                draw(st.lists(st.sampled_from(FEATURES), unique=True, min_size=1))
            )
    if draw(st.booleans()):
        for ns in draw(st.lists(st.sampled_from(NAMESPACES), unique=True)):
            for feature in draw(st.lists(st.sampled_from(FEATURES), unique=True, min_size=1)):
                value_priorities.setdefault(ns, {})[feature] = tuple(
                    draw(st.lists(st.sampled_from(VALUES), unique=True, min_size=1))
                )
        supported = grouped_by_feature(supported)
    return {
        "variants": variants,
        "supported": supported,
        "priorities": priorities,
        "feature_priorities": feature_priorities,
        "value_priorities": value_priorities,
    }


@settings(max_examples=300, deadline=None)
@given(releases())
def test_rank_descriptions_agrees_with_variantlib(release: dict[str, Any]) -> None:
    variants: dict[str, VariantDescription] = release["variants"]
    support = SupportedProperties.from_properties(release["supported"])
    options = {
        "feature_priorities": release["feature_priorities"],
        "value_priorities": release["value_priorities"],
    }
    expected = variantlib_order(
        variants,
        release["supported"],
        release["priorities"],
        release["feature_priorities"],
        release["value_priorities"],
    )
    assert expected[-1] == NULL_LABEL

    with_null = {**variants, NULL_LABEL: VariantDescription()}
    ranking = rank_descriptions(with_null, release["priorities"], support, **options)
    assert list(ranking.ranked) == expected
    assert set(ranking.ranked) | set(ranking.excluded) == set(with_null)
    assert not set(ranking.ranked) & set(ranking.excluded)

    as_listed = rank_descriptions(variants, release["priorities"], support, **options)
    assert list(as_listed.ranked) == [
        label for label in expected if label != NULL_LABEL or NULL_LABEL in variants
    ]
    assert as_listed.excluded == ranking.excluded


@settings(max_examples=100, deadline=None)
@given(releases())
def test_rank_of_a_document_agrees_with_variantlib(release: dict[str, Any]) -> None:
    # The same through a parsed PEP 825 variants.json, with "null" listed as real files do.
    variants = {**release["variants"], NULL_LABEL: VariantDescription()}
    document = parse_variants_document(
        {
            "$schema": SCHEMA_PEP825,
            "default-priorities": {"namespace": list(release["priorities"])},
            "variants": {label: d.to_mapping() for label, d in variants.items()},
        },
        where="generated",
    )
    ranking = rank(document, SupportedProperties.from_properties(release["supported"]))
    assert list(ranking.ranked) == variantlib_order(
        variants, release["supported"], release["priorities"]
    )


# -- hand-checked vectors ------------------------------------------------------------------------

SM_CUDA126 = ("50", "60", "61", "70", "75", "80", "90")
SM_CUDA128 = ("70", "75", "80", "86", "90", "100", "120")
SM_CUDA130 = ("75", "80", "86", "90", "100", "120")
PYTORCH_LIKE: dict[str, dict[str, dict[str, list[str]]]] = {
    "cuda12.6": {
        "nvidia": {
            "cuda_version_lower_bound": ["12.0"],
            "sm_arch": [f"{sm}_real" for sm in SM_CUDA126],
        }
    },
    "cuda12.8": {
        "nvidia": {
            "cuda_version_lower_bound": ["12.0"],
            "sm_arch": [f"{sm}_real" for sm in SM_CUDA128],
        }
    },
    "cuda13.0": {
        "nvidia": {
            "cuda_version_lower_bound": ["13.0"],
            "sm_arch": [f"{sm}_real" for sm in SM_CUDA130],
        }
    },
    "rocm7.1": {"amd": {"gfx_arch": ["gfx90a", "gfx942", "gfx1100", "gfx1201"]}},
    "xpu": {"intel": {"device_ip": ["12.55.8", "20.1.0"]}},
    "null": {},
}
PYTORCH_NAMESPACES = ["nvidia", "intel", "amd"]


def lower_bounds(driver: str) -> list[str]:
    """What the nvidia provider supports for a driver: every toolkit up to it, newest first."""
    known = ["13.0", "12.9", "12.8", "12.6", "12.4", "12.2", "12.1", "12.0", "11.8"]
    return known[known.index(driver) :]


def nvidia(driver: str, sm_arch: list[str]) -> SupportedProperties:
    return SupportedProperties.from_mapping(
        {"nvidia": {"cuda_version_lower_bound": lower_bounds(driver), "sm_arch": sm_arch}}
    )


# SASS of the device's major version down to minor 0, then PTX for anything not newer.
SM_86 = ["86_real", "80_real", "86_virtual", "80_virtual", "75_virtual", "70_virtual"]
SM_61 = ["61_real", "60_real", "61_virtual", "60_virtual", "53_virtual", "50_virtual"]
SM_90 = ["90_real", "90_virtual", "89_virtual", "86_virtual", "80_virtual", "75_virtual"]


def pytorch_document() -> Any:
    return parse_variants_document(
        {
            "$schema": SCHEMA_PEP825,
            "default-priorities": {"namespace": PYTORCH_NAMESPACES},
            "variants": PYTORCH_LIKE,
        },
        where="pytorch-like",
    )


@pytest.mark.parametrize(
    ("support", "expected"),
    [
        # 12.8 driver, 8.6 GPU: cuda13.0 needs toolkit 13.0 > 12.8 (out). cuda12.6 and cuda12.8
        # tie on the lower bound (both 12.0); on sm_arch cuda12.8's best is 86_real (index 0),
        # cuda12.6 has no 86_real and its best is 80_real (index 1), so cuda12.8 first.
        pytest.param(nvidia("12.8", SM_86), ("cuda12.8", "cuda12.6", "null"), id="12.8-sm86"),
        # 12.8 driver, 6.1 GPU: only cuda12.6 carries 61_real/60_real; cuda12.8 starts at
        # 70_real (none supported), cuda13.0 needs toolkit 13.0.
        pytest.param(nvidia("12.8", SM_61), ("cuda12.6", "null"), id="12.8-sm61"),
        # 13.0 driver, 9.0 GPU: cuda13.0 has the best lower bound (13.0, index 0) and 90_real;
        # cuda12.6 and cuda12.8 both get 12.0 and 90_real, a full tie broken by label.
        pytest.param(
            nvidia("13.0", SM_90), ("cuda13.0", "cuda12.6", "cuda12.8", "null"), id="13.0-sm90"
        ),
        # No GPU: nothing but the null variant.
        pytest.param(SupportedProperties(), ("null",), id="no-gpu"),
    ],
)
def test_pytorch_like_release(support: SupportedProperties, expected: tuple[str, ...]) -> None:
    document = pytorch_document()
    ranking = rank(document, support)
    assert ranking.ranked == expected
    assert set(ranking.excluded) == set(PYTORCH_LIKE) - set(expected)
    variants = {label: document.variants[label] for label in PYTORCH_LIKE}
    assert list(expected) == variantlib_order(
        variants, list(support.properties()), PYTORCH_NAMESPACES
    )


def test_pytorch_like_exclusion_reasons_name_the_feature() -> None:
    ranking = rank(pytorch_document(), nvidia("12.8", SM_61))
    assert ranking.excluded["cuda12.8"].startswith("nvidia :: sm_arch: none of 100_real")
    assert ranking.excluded["cuda13.0"].startswith(
        "nvidia :: cuda_version_lower_bound: none of 13.0 is supported"
    )
    # A namespace the target has nothing in is named as such (no feature could match).
    assert ranking.excluded["rocm7.1"] == "the target supports nothing in namespace 'amd'"
    assert ranking.excluded["xpu"] == "the target supports nothing in namespace 'intel'"


X86 = [VariantProperty("x86_64", "level", v) for v in ("v3", "v2", "v1")] + [
    VariantProperty("x86_64", "avx512", "on")
]


def small(variants: dict[str, list[str]]) -> dict[str, VariantDescription]:
    return {label: VariantDescription.from_properties(props) for label, props in variants.items()}


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        # Key lists: short = [(0,0,0)], long = [(0,0,0), (0,1,0)]; short is a prefix of long,
        # and the one with more properties wins.
        pytest.param(
            {
                "short": ["x86_64 :: level :: v3"],
                "long": ["x86_64 :: level :: v3", "x86_64 :: avx512 :: on"],
            },
            ["long", "short", "null"],
            id="more-properties-win-on-a-prefix",
        ),
        # Both keys are [(0,0,0)] (b's best value is v3 as well): a full tie, broken by label.
        pytest.param(
            {
                "b": ["x86_64 :: level :: v3", "x86_64 :: level :: v1"],
                "a": ["x86_64 :: level :: v3"],
            },
            ["a", "b", "null"],
            id="label-tie-break",
        ),
        # v1 is the worst supported value, still better than no properties at all.
        pytest.param(
            {"null": [], "v1": ["x86_64 :: level :: v1"]},
            ["v1", "null"],
            id="null-after-real-variants",
        ),
    ],
)
def test_small_vectors(variants: dict[str, list[str]], expected: list[str]) -> None:
    descriptions = small(variants)
    descriptions.setdefault(NULL_LABEL, VariantDescription())
    support = SupportedProperties.from_properties(X86)
    ranking = rank_descriptions(descriptions, ("x86_64",), support)
    assert list(ranking.ranked) == expected
    assert variantlib_order(descriptions, X86, ["x86_64"]) == expected


def test_exclusion_reason_names_the_feature() -> None:
    descriptions = small({"v4": ["x86_64 :: level :: v4"], "arm": ["aarch64 :: version :: 8.2"]})
    support = SupportedProperties.from_properties(X86)
    ranking = rank_descriptions(descriptions, ("x86_64", "aarch64"), support)
    assert ranking.ranked == ()
    assert ranking.excluded["v4"] == (
        "x86_64 :: level: none of v4 is supported (the target supports v3, v2, v1)"
    )
    assert "aarch64 :: version" in ranking.excluded["arm"]
