"""Built-in providers: facts -> properties in the published vocabulary, checked against wheels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from fitwheel.providers import BUILTIN_NAMESPACES, provide_all, provider
from fitwheel.providers.nvidia import lower_bounds, sm_archs, upper_bounds


def compatible(
    wheel: Mapping[str, Mapping[str, Sequence[str]]],
    supported: Mapping[str, Mapping[str, Sequence[str]]],
) -> bool:
    """PEP 825: every declared feature has at least one of its values supported."""
    return all(
        any(value in supported.get(ns, {}).get(feature, ()) for value in values)
        for ns, features in wheel.items()
        for feature, values in features.items()
    )


def sm_list(*archs: str) -> dict[str, dict[str, list[str]]]:
    return {"nvidia": {"cuda_version_lower_bound": ["12.0"], "sm_arch": list(archs)}}


# PyTorch 2.10's labels, as its published variants metadata lists them.
CUDA126 = sm_list("50_real", "60_real", "70_real", "75_real", "80_real", "86_real", "90_real")
CUDA128 = sm_list("70_real", "75_real", "80_real", "86_real", "90_real", "100_real", "120_real")


def nvidia(driver: str | None, *capabilities: str) -> dict[str, dict[str, list[str]]]:
    facts: dict[str, object] = {"compute_capabilities": list(capabilities)}
    if driver:
        facts["cuda_driver_version"] = driver
    return provide_all({"nvidia": facts})


def test_gtx_1080_ti_gets_the_build_with_60_real() -> None:
    supported = nvidia("12.8", "6.1")
    assert compatible(CUDA126, supported)
    assert not compatible(CUDA128, supported)


def test_rtx_3090_gets_both() -> None:
    supported = nvidia("12.8", "8.6")
    assert compatible(CUDA126, supported) and compatible(CUDA128, supported)
    assert not compatible(sm_list("89_real", "90_real"), supported)


def test_ptx_is_offered_wherever_the_device_can_jit_it() -> None:
    supported = nvidia("12.8", "9.0")["nvidia"]["sm_arch"]
    assert "80_virtual" in supported and "50_virtual" in supported
    assert "80_real" not in supported  # SASS does not cross a major version
    assert not compatible(sm_list("100_virtual"), nvidia("12.8", "9.0"))


def test_sm_arch_order() -> None:
    assert sm_archs((8, 6))[:8] == [
        "86_real", "85_real", "84_real", "83_real", "82_real", "81_real", "80_real", "86_virtual",
    ]  # fmt: skip
    assert sm_archs((8, 6))[-1] == "50_virtual"
    assert sm_archs((12, 0))[:2] == ["120_real", "120_virtual"]


def test_several_gpus_the_least_capable_governs() -> None:
    supported = nvidia("12.8", "9.0", "6.1", "8.6")
    assert supported["nvidia"]["sm_arch"] == sm_archs((6, 1))
    assert not compatible(sm_list("90_real"), supported)


def test_cuda_bounds_match_the_published_provider() -> None:
    # Vectors from nvidia-variant-provider's own tests (driver 12.7).
    lower = lower_bounds((12, 7))
    assert lower[0] == "12.7" and lower[-1] == "11" and "11.20" in lower
    assert lower[:9] == ["12.7", "12.6", "12.5", "12.4", "12.3", "12.2", "12.1", "12.0", "12"]
    upper = upper_bounds((12, 7))
    assert upper[0] == "15.20" and upper[-1] == "12.8" and "12.7" not in upper
    assert "13" in upper and "12" not in upper
    every = {
        f"{major}{minor}"
        for major in range(11, 16)
        for minor in ["", *(f".{m}" for m in range(21))]
    }
    assert set(lower) | set(upper) == every and not set(lower) & set(upper)


def test_driver_without_devices_and_unknown_devices() -> None:
    assert (
        provide_all({"nvidia": {"cuda_driver_version": "12.8", "compute_capabilities": []}}) == {}
    )
    bounds_only = provide_all({"nvidia": {"cuda_driver_version": "12.8"}})
    assert list(bounds_only["nvidia"]) == ["cuda_version_lower_bound", "cuda_version_upper_bound"]
    arch_only = provide_all({"nvidia": {"compute_capabilities": ["8.0"]}})
    assert list(arch_only["nvidia"]) == ["sm_arch"]
    assert provide_all({"nvidia": {}}) == {}


def test_invalid_compute_capability_is_an_error() -> None:
    with pytest.raises(ValueError, match="invalid compute capability 'x'"):
        provider("nvidia")({"nvidia": {"compute_capabilities": ["x"]}})


def test_amd() -> None:
    facts = {"amd": {"gfx_archs": ["gfx942", "gfx90a", "gfx942"], "rocm_version": "6.2"}}
    assert provide_all(facts) == {
        "amd": {"gfx_arch": ["gfx942", "gfx90a"], "rocm_version": ["6.2", "6.1", "6.0"]}
    }
    assert provide_all({"amd": {"rocm_version": "6.2"}}) == {}


def test_intel() -> None:
    assert provide_all({"intel": {"device_ips": ["12.55.8"]}}) == {
        "intel": {"device_ip": ["12.55.8"]}
    }
    assert provide_all({"intel": {"devices": [{"address": "0000:00:02.0"}]}}) == {}


def test_cpu_providers_follow_the_interpreter_architecture() -> None:
    flags = ["cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3", "sse2"]
    x86 = provide_all({"cpu": {"architecture": "x86_64", "flags": flags}})
    assert x86["x86_64"]["level"] == ["v2", "v1"]
    assert provide_all({"cpu": {"architecture": "i686", "flags": flags}}) == {}
    target = provide_all({"cpu": {"architecture": "x86_64", "x86_64_level": "v3"}})
    assert target["x86_64"]["level"] == ["v3", "v2", "v1"] and target["x86_64"]["avx2"] == ["on"]
    arm = provide_all({"cpu": {"architecture": "aarch64", "aarch64_version": "8.2a"}})
    assert arm["aarch64"]["version"] == ["8.2a", "8.1a", "8a"]


def test_registry() -> None:
    assert BUILTIN_NAMESPACES == ("x86_64", "aarch64", "nvidia", "amd", "intel", "tpu")
    with pytest.raises(KeyError):
        provider("blas_lapack")


def test_nvidia_driver_version_from_a_profile_is_bounded() -> None:
    from fitwheel.providers.nvidia import parse_version

    assert parse_version("12.8") == (12, 8)
    assert parse_version("999999999999.1") is None
    assert parse_version("1" * 5000) is None


def test_rocm_version_from_a_profile_is_bounded() -> None:
    # Every minor down to 0 is listed: "6.111111111112" enumerated until killed (fuzzer).
    from fitwheel.providers.amd import provide

    facts = {"amd": {"gfx_archs": ["gfx942"], "rocm_version": "6.2"}}
    assert provide(facts)["rocm_version"] == ["6.2", "6.1", "6.0"]
    facts["amd"]["rocm_version"] = "6.111111111112"
    assert "rocm_version" not in provide(facts)
