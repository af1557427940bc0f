"""What a target installs from a lock: markers, environments, PEP 825 order (pure, fast)."""

from __future__ import annotations

from typing import Any

import pytest

from fitwheel.errors import LockNotForTarget, NoBuildForTarget
from fitwheel.lock.merge import merge
from fitwheel.lock.model import Lock
from fitwheel.lock.plan import plan_install
from fitwheel.profile import profile_from_document
from fitwheel.select import Target
from helpers.locks import resolved, target


def machine(python: str, **variants: Any) -> Target:
    document = {
        "interpreter": {
            "python_version": python,
            "platforms": ["manylinux_2_28_x86_64", "linux_x86_64"],
            "architecture": "x86_64",
            "os": "linux",
        },
        "variants": variants,
    }
    return Target.of(profile_from_document(document, where=f"py{python}.toml"))


CUDA = {"nvidia": {"cuda_version_lower_bound": ["12.8", "12.6"]}}


def lock() -> Lock:
    return merge(
        [
            target("a", "py311", resolved("demo", "1.0", "cu128"), resolved("foo", "1.0")),
            target("b", "py311", resolved("demo", "1.0", "null"), resolved("foo", "1.0")),
            target("c", "py312", resolved("demo", "1.0", "cu126"), resolved("foo", "2.0")),
        ]
    )


def chosen(target: Target) -> dict[str, tuple[str, str | None]]:
    return {
        p.package.name: (p.package.version, p.label)
        for p in plan_install(lock(), target, where="pylock.toml")
    }


def test_the_best_locked_build_by_pep_825_order() -> None:
    assert chosen(machine("3.11.4", **CUDA)) == {"demo": ("1.0", "cu128"), "foo": ("1.0", None)}
    assert chosen(machine("3.11.4")) == {"demo": ("1.0", "null"), "foo": ("1.0", None)}


def test_markers_pick_the_release_for_the_environment() -> None:
    only_126 = {"nvidia": {"cuda_version_lower_bound": ["12.6"]}}
    assert chosen(machine("3.12.1", **only_126)) == {
        "demo": ("1.0", "cu126"),
        "foo": ("2.0", None),
    }


def test_a_python_the_lock_was_not_made_for_is_refused() -> None:
    with pytest.raises(LockNotForTarget, match=r"3\.13"):
        chosen(machine("3.13.0"))


def test_no_fitting_locked_build_names_each_wheel() -> None:
    gpu_only = merge([target("a", "py311", resolved("demo", "1.0", "cu128"))])
    with pytest.raises(NoBuildForTarget, match=r"demo-1\.0-py3-none-any-cu128\.whl"):
        plan_install(gpu_only, machine("3.11.4"), where="pylock.toml")
