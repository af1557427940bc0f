"""Override variables are parsed once, before any probe: a bad value is one error naming it."""

from __future__ import annotations

import pytest

from fitwheel.errors import InvalidOverride
from fitwheel.probe.overrides import Override, Overrides, read_overrides


def test_every_override_is_parsed_with_its_variable() -> None:
    overrides = read_overrides(
        {
            "FITWHEEL_X86_64_LEVEL": "v3",
            "FITWHEEL_AARCH64_VERSION": "",
            "FITWHEEL_CUDA_DRIVER": "",
            "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": "12080",
            "FITWHEEL_CUDA_ARCH": "sm_90,8.6",
            "FITWHEEL_AMD_GFX": "gfx942",
            "TPU_VARIANT_PROVIDER_FORCE_PRESENT": "YES",
        }
    )
    assert overrides == Overrides(
        x86_64_level=Override(3, "FITWHEEL_X86_64_LEVEL"),
        cuda_driver_version=Override("12.8", "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION"),
        compute_capabilities=Override(["9.0", "8.6"], "FITWHEEL_CUDA_ARCH"),
        gfx_archs=Override(["gfx942"], "FITWHEEL_AMD_GFX"),
        tpu_present=Override(True, "TPU_VARIANT_PROVIDER_FORCE_PRESENT"),
    )


def test_fitwheels_variable_wins_over_uvs() -> None:
    overrides = read_overrides(
        {"FITWHEEL_CUDA_DRIVER": "13.0", "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": "12.4"}
    )
    assert overrides.cuda_driver_version == Override("13.0", "FITWHEEL_CUDA_DRIVER")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FITWHEEL_X86_64_LEVEL", "v9"),
        ("FITWHEEL_CUDA_DRIVER", "twelve"),
        ("FITWHEEL_CUDA_ARCH", "ampere"),
        ("FITWHEEL_AMD_GFX", "mi300"),
        ("FITWHEEL_TPU_PRESENT", "maybe"),
    ],
)
def test_a_malformed_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(InvalidOverride, match=rf"^{name}: .*; unset it or leave it empty$"):
        read_overrides({name: value})
