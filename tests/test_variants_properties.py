"""Properties, descriptions, labels and variantlib's hash label."""

from __future__ import annotations

import pytest

from fitwheel.errors import InvalidLabel, InvalidProperty
from fitwheel.variants.properties import (
    VariantDescription,
    VariantProperty,
    hash_label,
    parse_property,
    validate_label,
)


@pytest.mark.parametrize(
    ("properties", "label"),
    [
        (["a::b::c"], "01a9783a"),
        (["a::b::c", "d::e::f"], "eb9a66a7"),
        (["d :: e :: f", "a::b::c"], "eb9a66a7"),
        (["blas_lapack::library::openblas", "x86_64::level::v3"], "35ba9e9a"),
    ],
)
def test_hash_label_vectors(properties: list[str], label: str) -> None:
    assert hash_label(parse_property(p) for p in properties) == label


@pytest.mark.parametrize(
    "text",
    ["nvidia::sm_arch::86_real", " nvidia :: sm_arch :: 86_real ", "nvidia\t::sm_arch::  86_real"],
)
def test_whitespace_around_separators_is_not_significant(text: str) -> None:
    prop = parse_property(text)
    assert prop == VariantProperty("nvidia", "sm_arch", "86_real")
    assert str(prop) == "nvidia :: sm_arch :: 86_real"


@pytest.mark.parametrize(
    "text",
    [
        "nvidia::sm_arch",
        "Nvidia::sm_arch::86",
        "nvidia::sm-arch::86",
        "nvidia::sm_arch::8.6a+",
        "a::b::c::d",
        "",
        "x86_64::level::V3",
    ],
)
def test_invalid_properties_are_named_errors_quoting_input(text: str) -> None:
    with pytest.raises(InvalidProperty) as info:
        parse_property(text)
    assert repr(text) in str(info.value)


def test_values_may_contain_dots_but_names_may_not() -> None:
    assert parse_property("nvidia::cuda_version_lower_bound::12.8").value == "12.8"
    with pytest.raises(InvalidProperty):
        VariantProperty("nv.idia", "x", "y")


def test_description_groups_values_by_feature() -> None:
    description = VariantDescription.from_mapping(
        {"nvidia": {"sm_arch": ["86_real", "80_real"], "cuda_version_lower_bound": ["12.0"]}}
    )
    assert description.features == {
        ("nvidia", "cuda_version_lower_bound"): ("12.0",),
        ("nvidia", "sm_arch"): ("80_real", "86_real"),
    }
    assert description.to_mapping() == {
        "nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": ["80_real", "86_real"]}
    }
    assert not description.is_null
    assert VariantDescription().is_null


@pytest.mark.parametrize(
    "bad", [{"nvidia": {"sm_arch": []}}, {"nvidia": ["x"]}, {"nvidia": {"sm_arch": [1]}}]
)
def test_description_rejects_malformed_json_shapes(bad: object) -> None:
    with pytest.raises(InvalidProperty):
        VariantDescription.from_mapping(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("label", ["cuda12.8", "null", "01a9783a", "x_y.z"])
def test_valid_labels(label: str) -> None:
    assert validate_label(label) == label


@pytest.mark.parametrize("label", ["", "CUDA", "cu-12", "a b", "é"])
def test_invalid_labels(label: str) -> None:
    with pytest.raises(InvalidLabel):
        validate_label(label)
