"""Lock targets re-aimed at other Pythons and platforms (pure, fast)."""

from __future__ import annotations

import pytest

from fitwheel.errors import InvalidProfile
from fitwheel.lock.resolve import LockTarget
from fitwheel.lock.targets import expand, platform_system
from fitwheel.profile import profile_from_document
from fitwheel.select import Target

BASE = LockTarget(
    "gpu",
    profile_from_document(
        {
            "interpreter": {
                "python_version": "3.11.7",
                "abis": ["cp311"],
                "platforms": ["manylinux_2_28_x86_64"],
                "architecture": "x86_64",
                "os": "linux",
            },
            "variants": {"nvidia": {"cuda_version_lower_bound": ["12.8"]}},
        },
        where="gpu.toml",
    ),
)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("manylinux_2_28_x86_64", ("linux", "x86_64")),
        ("manylinux2014_aarch64", ("linux", "aarch64")),
        ("musllinux_1_2_x86_64", ("linux", "x86_64")),
        ("linux_armv7l", ("linux", "armv7l")),
        ("macosx_11_0_arm64", ("darwin", "arm64")),
        ("win_amd64", ("win32", "AMD64")),
        ("win32", ("win32", "x86")),
    ],
)
def test_a_platform_tag_names_the_system(tag: str, expected: tuple[str, str]) -> None:
    assert platform_system(tag) == expected


def test_an_unknown_platform_tag_is_refused() -> None:
    with pytest.raises(InvalidProfile, match="any"):
        platform_system("any")


def test_each_python_version_is_a_target_with_the_same_variants() -> None:
    targets = expand([BASE], ["3.12", "3.13"], ["macosx_14_0_arm64"])
    assert [t.name for t in targets] == [
        "gpu (python 3.12, macosx_14_0_arm64)",
        "gpu (python 3.13, macosx_14_0_arm64)",
    ]
    environment = Target.of(targets[0].profile).environment
    assert environment["python_version"] == "3.12"
    assert environment["sys_platform"] == "darwin"
    assert environment["platform_machine"] == "arm64"
    interpreter = targets[0].profile.interpreter
    assert interpreter is not None and interpreter.abis is None  # cp311 was the old Python's
    assert targets[0].profile.variants == BASE.profile.variants


def test_no_option_keeps_the_targets() -> None:
    assert expand([BASE], [], []) == [BASE]
    (same_python,) = expand([BASE], [], ["manylinux_2_17_x86_64"])
    assert same_python.profile.interpreter is not None
    assert same_python.profile.interpreter.abis == ("cp311",)
