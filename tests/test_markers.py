"""Dependency markers with the variant_* markers beside the PEP 508 ones."""

from __future__ import annotations

import pytest

from fitwheel.errors import InvalidMarker
from fitwheel.variants.markers import (
    VariantContext,
    applicable_requirements,
    evaluate_marker,
    split_requirement,
)
from fitwheel.variants.properties import VariantDescription
from fitwheel.variants.support import SupportedProperties

LINUX = {"sys_platform": "linux", "python_version": "3.11", "platform_machine": "x86_64"}
WHEEL = VariantDescription.from_properties(
    [
        "nvidia :: sm_arch :: 86_real",
        "nvidia :: sm_arch :: 90_real",
        "nvidia :: cuda_version_lower_bound :: 12.8",
    ]
)
TARGET = SupportedProperties.from_mapping(
    {"nvidia": {"cuda_version_lower_bound": ["12.8", "12"], "sm_arch": ["86_real", "80_real"]}}
)
CONTEXT = VariantContext.for_wheel("cu128", WHEEL, TARGET)


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('"nvidia :: sm_arch :: 86_real" in variant_properties', True),
        # 90_real is declared by the wheel but not supported by the target: filtered out.
        ('"nvidia::sm_arch::90_real" in variant_properties', False),
        ('"nvidia :: sm_arch" in variant_features', True),
        ('"nvidia" in variant_namespaces and "amd" not in variant_namespaces', True),
        ('variant_label == "cu128"', True),
        ('variant_label != "cu128" or python_version >= "3.12"', False),
        (
            '(sys_platform == "linux" and "nvidia" in variant_namespaces) or variant_label == "x"',
            True,
        ),
        ('python_version < "3.12" and platform_machine == "x86_64"', True),
    ],
)
def test_variant_and_standard_markers_together(marker: str, expected: bool) -> None:
    assert evaluate_marker(marker, environment=LINUX, variant=CONTEXT) is expected


def test_plain_wheel_has_empty_label_and_sets() -> None:
    assert evaluate_marker('variant_label == ""', environment=LINUX)
    assert evaluate_marker('"nvidia" not in variant_namespaces', environment=LINUX)


@pytest.mark.parametrize(
    "marker",
    [
        "variant_properties in variant_namespaces",
        '"nvidia" == variant_namespaces',
        '"not a property" in variant_properties',
        'python_version >= "3.8" and',
        '(python_version >= "3.8"',
        'os_name ~ "posix"',
        "",
    ],
)
def test_invalid_markers_are_named_errors(marker: str) -> None:
    with pytest.raises(InvalidMarker):
        evaluate_marker(marker, environment=LINUX, variant=CONTEXT)


def test_requirements_filtered_by_marker() -> None:
    requirements = [
        'nvidia-cublas-cu12 ; "nvidia" in variant_namespaces',
        'rocm-libs ; "amd" in variant_namespaces',
        "numpy>=2",
        'pkg @ https://example.invalid/pkg.whl ; variant_label == "cu128"',
    ]
    assert applicable_requirements(requirements, environment=LINUX, variant=CONTEXT) == [
        "nvidia-cublas-cu12",
        "numpy>=2",
        "pkg @ https://example.invalid/pkg.whl",
    ]
    assert split_requirement("a>=1;python_version<'4'") == ("a>=1", "python_version<'4'")
