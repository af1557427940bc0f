"""Wheel filenames with and without build tags and variant labels."""

from __future__ import annotations

import pytest
from packaging.tags import Tag
from packaging.version import Version

from fitwheel.errors import InvalidVariantWheelFilename
from fitwheel.variants.filename import parse_variant_wheel_filename, with_label


@pytest.mark.parametrize(
    ("filename", "build", "label", "base"),
    [
        ("torch-2.10.0-cp311-cp311-manylinux_2_28_x86_64.whl", (), None, None),
        ("torch-2.10.0-1-cp311-cp311-manylinux_2_28_x86_64.whl", (1, ""), None, None),
        (
            "torch-2.10.0-cp311-cp311-manylinux_2_28_x86_64-cuda12.8.whl",
            (),
            "cuda12.8",
            "torch-2.10.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        ),
        (
            "torch-2.10.0-2a-cp311-cp311-manylinux_2_28_x86_64-null.whl",
            (2, "a"),
            "null",
            "torch-2.10.0-2a-cp311-cp311-manylinux_2_28_x86_64.whl",
        ),
    ],
)
def test_parse(filename: str, build: tuple[()], label: str | None, base: str | None) -> None:
    parsed = parse_variant_wheel_filename(filename)
    assert parsed.name == "torch"
    assert parsed.version == Version("2.10.0")
    assert parsed.build == build
    assert parsed.label == label
    assert parsed.tags == frozenset({Tag("cp311", "cp311", "manylinux_2_28_x86_64")})
    assert parsed.base_filename == (base or filename)
    assert with_label(parsed.base_filename, label) == filename


def test_six_parts_python_tag_never_starts_with_a_digit() -> None:
    # Third part "1" starts with a digit: a build tag, no label.
    assert parse_variant_wheel_filename("a-1.0-1-py3-none-any.whl").label is None
    # Third part "py3" does not: the sixth part is a label.
    assert parse_variant_wheel_filename("a-1.0-py3-none-any-1.whl").label == "1"


@pytest.mark.parametrize(
    "filename",
    [
        "torch-2.10.0-cp311-cp311-linux_x86_64-CUDA.whl",
        "torch-2.10.0-cp311-cp311.whl",
        "torch-2.10.0-1-cp311-cp311-linux_x86_64-a-b.whl",
        "torch-2.10.0-cp311-cp311-linux_x86_64.zip",
        "torch-not.a.version!-py3-none-any.whl",
    ],
)
def test_bad_names_raise_named_error_quoting_the_name(filename: str) -> None:
    with pytest.raises(InvalidVariantWheelFilename) as info:
        parse_variant_wheel_filename(filename)
    assert filename in str(info.value)
