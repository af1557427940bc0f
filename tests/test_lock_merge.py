"""Merging per-target resolutions into one lock, and reading it back (pure, fast)."""

from __future__ import annotations

import random
import tomllib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker

from fitwheel.errors import InvalidLock, LockConflict
from fitwheel.lock.document import dumps_lock, loads_lock
from fitwheel.lock.merge import ResolvedFile, TargetResolution, merge
from helpers.locks import ENVIRONMENTS, resolved, target


def test_releases_that_differ_per_environment_get_markers() -> None:
    lock = merge(
        [
            target("old", "py311", resolved("foo", "1.0"), resolved("bar", "1.0")),
            target("new", "py312", resolved("foo", "2.0"), resolved("bar", "1.0")),
        ]
    )
    markers = {(p.name, p.version): p.marker for p in lock.packages}
    assert markers == {
        ("bar", "1.0"): None,
        ("foo", "1.0"): 'python_version == "3.11"',
        ("foo", "2.0"): 'python_version == "3.12"',
    }
    assert lock.requires_python == ">=3.11"
    assert len(lock.environments) == 2


def test_variant_builds_of_one_release_are_merged_and_pruned() -> None:
    lock = merge(
        [
            target("a100", "py311", resolved("demo", "1.0", "cu128")),
            target("cpu", "py311", resolved("demo", "1.0", "null")),
        ]
    )
    (package,) = lock.packages
    assert package.marker is None
    assert sorted(w.label or "" for w in package.wheels) == ["cu128", "null"]
    assert package.variants is not None
    assert sorted(package.variants.variants) == ["cu128", "null"]  # cu126: unused, pruned


def test_different_releases_for_equal_environments_are_a_conflict() -> None:
    with pytest.raises(LockConflict, match=r"foo 1\.0 and 2\.0"):
        merge(
            [
                target("a100", "py311", resolved("foo", "2.0")),
                target("cpu", "py311", resolved("foo", "1.0")),
            ]
        )


def test_a_release_only_some_equal_targets_need_is_locked_for_all() -> None:
    lock = merge(
        [
            target("a100", "py311", resolved("demo", "1.0"), resolved("cuda-runtime", "12.8")),
            target("cpu", "py311", resolved("demo", "1.0")),
        ]
    )
    assert all(p.marker is None for p in lock.packages)


def test_a_labelled_wheel_missing_from_variants_json_is_refused() -> None:
    lock = merge(
        [
            target("a100", "py311", resolved("demo", "1.0", "cu128")),
            target("cpu", "py311", resolved("demo", "1.0", "null")),
        ]
    )
    document = tomllib.loads(dumps_lock(lock))
    del document["packages"][0]["variants-json"]["variants"]["cu128"]
    with pytest.raises(InvalidLock, match=r"'cu128', which its .* does not list"):
        loads_lock(tomli_w.dumps(document), where="pylock.toml")


# A project's release per target, targets spread over three environments.
assignments = st.lists(
    st.tuples(st.sampled_from(sorted(ENVIRONMENTS)), st.sampled_from(["1.0", "2.0", None])),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(assignments, st.randoms(use_true_random=False))
def test_each_target_selects_exactly_what_it_resolved(
    chosen: list[tuple[str, str | None]], shuffle: random.Random
) -> None:
    resolutions = [
        target(f"t{i}", env, resolved("base", "1.0"), *([resolved("foo", v)] if v else []))
        for i, (env, v) in enumerate(chosen)
    ]
    try:
        lock = merge(resolutions)
    except LockConflict:
        # Only when two targets with one environment need different releases.
        by_env: dict[str, set[str]] = {}
        for env, version in chosen:
            if version:
                by_env.setdefault(env, set()).add(version)
        assert any(len(v) > 1 for v in by_env.values())
        return
    for (env, version), resolution in zip(chosen, resolutions, strict=True):
        environment = dict(ENVIRONMENTS[env])
        selected = {
            (p.name, p.version)
            for p in lock.packages
            if p.marker is None or Marker(p.marker).evaluate(environment)
        }
        assert ("base", "1.0") in selected
        if version:
            assert ("foo", version) in selected
        assert len([p for p in selected if p[0] == "foo"]) <= 1, resolution.name
    # Byte-stable: neither the order of targets nor of their files changes the lock.
    shuffle.shuffle(resolutions)
    shuffled = [
        TargetResolution(r.name, r.environment, tuple(reversed(r.files))) for r in resolutions
    ]
    assert dumps_lock(merge(shuffled)) == dumps_lock(lock)
    assert dumps_lock(loads_lock(dumps_lock(lock), where="pylock.toml")) == dumps_lock(lock)


def test_targets_are_told_apart_by_position_not_name() -> None:
    lock = merge(
        [
            target("gpu", "py311", resolved("foo", "1.0")),
            target("gpu", "py312", resolved("foo", "2.0")),
        ]
    )
    assert sorted(p.marker or "" for p in lock.packages) == [
        'python_version == "3.11"',
        'python_version == "3.12"',
    ]


def test_upload_time_and_size_from_the_index_are_kept() -> None:
    file = replace(resolved("foo", "1.0").file, upload_time="2024-05-01T12:00:00.500000Z")
    lock = merge([target("a", "py311", ResolvedFile("foo", "1.0", file))])
    text = dumps_lock(lock)
    expected = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
    assert tomllib.loads(text)["packages"][0]["wheels"][0]["upload-time"] == expected
    (package,) = loads_lock(text, where="pylock.toml").packages
    (wheel,) = package.wheels
    assert wheel.upload_time == expected
    assert wheel.size == 10


def test_a_value_a_profile_leaves_unknown_constrains_nothing() -> None:
    unknown = {**ENVIRONMENTS["py311"], "platform_machine": ""}
    lock = merge(
        [
            TargetResolution("hand-written", unknown, (resolved("foo", "1.0"),)),
            target("new", "py312", resolved("foo", "2.0")),
        ]
    )
    assert not any("platform_machine" in e for e in lock.environments if "3.11" in e)
    assert {p.version: p.marker for p in lock.packages} == {
        "1.0": 'python_version == "3.11"',
        "2.0": 'python_version == "3.12" and platform_machine == "x86_64"',
    }
