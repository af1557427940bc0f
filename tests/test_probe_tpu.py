"""TPU presence: PCI sysroots, fitwheel's and uv's override variables, profiles, the provider."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fitwheel.probe.overrides import read_overrides
from fitwheel.probe.tpu import probe_tpu
from fitwheel.providers import provide_all
from helpers.cli import detect_json, fitwheel

SYSROOTS = Path(__file__).parent / "detect_sysroots"
TPU_HOST = SYSROOTS / "tpu-v5e-host"


def detect(*args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    return fitwheel("detect", *args, check=check, clean=True, extra_env=env)


def test_tpu_host_sysroot() -> None:
    # Two v5e chips and a Google NIC (same vendor, not a TPU) on the PCI bus.
    document = detect_json("--sysroot", str(TPU_HOST))
    assert document["facts"]["tpu"] == {
        "present": True,
        "devices": [
            {"address": "0000:00:04.0", "device": "0x0063", "generation": "v5e"},
            {"address": "0000:00:05.0", "device": "0x0063", "generation": "v5e"},
        ],
    }
    assert document["variants"]["tpu"] == {"present": ["true"]}
    assert "tpu :: present :: true" in detect("--sysroot", str(TPU_HOST)).stdout


def test_machine_without_tpu_supports_present_false() -> None:
    # As uv's tpu provider does: a build made for TPU-less machines is selectable there.
    document = detect_json("--sysroot", str(SYSROOTS / "gpu-node"))
    assert document["facts"]["tpu"] == {"present": False}
    assert document["variants"]["tpu"] == {"present": ["false"]}


def test_no_pci_list_means_unknown_not_absent() -> None:
    document = detect_json("--sysroot", str(SYSROOTS / "x86-v3-haswell"))
    reason = document["facts"]["tpu"]["unknown"]["present"]
    assert reason.startswith("no PCI device list under ")
    assert "tpu" not in document["variants"]


@pytest.mark.parametrize(
    ("value", "present"),
    # Measured with uv 0.13.9 (docs/uv-interop.md): case-insensitive 1/true/yes, nothing else.
    [("1", True), ("True", True), ("YES", True), ("0", False), ("y", False), (" 1", False)],
)
def test_uv_variable_is_read_as_uv_reads_it(value: str, present: bool) -> None:
    document = detect_json("--sysroot", str(TPU_HOST), TPU_VARIANT_PROVIDER_FORCE_PRESENT=value)
    assert document["facts"]["tpu"] == {
        "present": present,
        "sources": {"present": "TPU_VARIANT_PROVIDER_FORCE_PRESENT"},
    }
    assert document["variants"]["tpu"] == {"present": ["true" if present else "false"]}


def test_fitwheel_variable_wins_and_empty_counts_as_unset() -> None:
    document = detect_json(
        "--sysroot", str(TPU_HOST),
        FITWHEEL_TPU_PRESENT="off", TPU_VARIANT_PROVIDER_FORCE_PRESENT="1",
    )  # fmt: skip
    assert document["facts"]["tpu"]["sources"] == {"present": "FITWHEEL_TPU_PRESENT"}
    assert document["variants"]["tpu"] == {"present": ["false"]}
    empty = detect_json("--sysroot", str(TPU_HOST), FITWHEEL_TPU_PRESENT="")
    assert empty["facts"]["tpu"]["present"] is True and "sources" not in empty["facts"]["tpu"]


def test_malformed_fitwheel_variable_is_one_clear_error() -> None:
    completed = detect(check=False, FITWHEEL_TPU_PRESENT="maybe")
    assert completed.returncode == 2
    assert completed.stderr == (
        "fitwheel: error: FITWHEEL_TPU_PRESENT: invalid value 'maybe': expected true or false "
        "(or 1/0, yes/no, on/off); unset it or leave it empty\n"
    )


def test_profiles() -> None:
    assert provide_all({"tpu": {"present": True}}) == {"tpu": {"present": ["true"]}}
    # A profile that says nothing about a TPU offers no tpu namespace at all.
    assert "tpu" not in provide_all({"cpu": {"architecture": "x86_64", "x86_64_level": "v2"}})
    with pytest.raises(ValueError, match=r"tpu\.present must be true or false"):
        provide_all({"tpu": {"present": "yes"}})


def test_profile_file_with_tpu_facts(tmp_path: Path) -> None:
    profile = tmp_path / "tpu.toml"
    profile.write_text("[facts.tpu]\npresent = true\n")
    document = detect_json("--profile", str(profile))
    assert document["variants"] == {"tpu": {"present": ["true"]}}
    profile.write_text('[facts.tpu]\npresent = "yes"\n')
    completed = detect("--profile", str(profile), check=False)
    assert completed.returncode != 0
    assert "tpu.present must be true or false" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_probe_api_takes_the_parsed_override() -> None:
    forced = read_overrides({"FITWHEEL_TPU_PRESENT": "0"}).tpu_present
    assert probe_tpu(str(TPU_HOST), forced) == {
        "present": False,
        "sources": {"present": "FITWHEEL_TPU_PRESENT"},
    }
    assert probe_tpu(str(TPU_HOST), read_overrides({}).tpu_present)["present"] is True
