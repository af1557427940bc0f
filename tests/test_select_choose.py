"""Selection per release: PEP 825 order, tags, build numbers, yanked/requires-python, reasons."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from packaging.tags import Tag

from fitwheel.errors import InvalidProfile
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.profile import Profile, profile_from_document
from fitwheel.select import Target, choose, resolve_page
from fitwheel.variants.metadata import SCHEMA_PEP825, VariantsDocument, parse_variants_document

BASE = "https://files.example.org/"
CP311 = {
    "implementation": "cpython",
    "python_version": "3.11.7",
    "abis": ["cp311", "abi3", "none"],
    "platforms": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "linux_x86_64"],
}


def page(*names: str, **extra: Any) -> ProjectPage:
    files = []
    for name in names:
        options = extra.get(name, {})
        files.append(IndexFile(filename=name, url=BASE + name, **options))
    return ProjectPage(name="demo", url="https://example.org/simple/demo/", files=tuple(files))


def profile(
    variants: dict[str, dict[str, list[str]]], interpreter: Mapping[str, object] | None = None
) -> Target:
    data: dict[str, object] = {"variants": variants, "interpreter": interpreter or CP311}
    return Target.of(profile_from_document(data, where="test profile"))


def document(
    variants: dict[str, dict[str, dict[str, list[str]]]], namespaces: list[str]
) -> VariantsDocument:
    return parse_variants_document(
        {
            "$schema": SCHEMA_PEP825,
            "default-priorities": {"namespace": namespaces},
            "variants": variants,
        },
        where="test",
    )


LEVELS = document(
    {
        "x86_64_v2": {"x86_64": {"level": ["v2"]}},
        "x86_64_v3": {"x86_64": {"level": ["v3"]}},
        "null": {},
    },
    ["x86_64"],
)
V3 = {"x86_64": {"level": ["v3", "v2", "v1"]}}


def test_profile_tags_follow_the_interpreter_table() -> None:
    tags = profile({}).tags
    assert tags[0] == Tag("cp311", "cp311", "manylinux_2_28_x86_64")
    assert Tag("py3", "none", "any") in tags
    assert Tag("cp312", "cp312", "manylinux_2_28_x86_64") not in tags
    assert tags.index(Tag("cp311", "abi3", "manylinux_2_17_x86_64")) < tags.index(
        Tag("py3", "none", "any")
    )
    environment = profile({}).environment
    assert environment["python_version"] == "3.11"
    assert environment["python_full_version"] == "3.11.7"


def test_a_target_needs_an_interpreter_table() -> None:
    """Selection never falls back to the running interpreter: the edge must fill it in."""
    with pytest.raises(InvalidProfile, match=r"hand-made: no \[interpreter\] table"):
        Target.of(Profile(source="hand-made"))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"python_version": 3.11}, "python_version must be X.Y or X.Y.Z"),
        ({"python_version": "3.1000000000"}, "python_version must be X.Y or X.Y.Z"),
        ({"python_version": "3.11", "platforms": 7}, "platforms must be a list of strings"),
        ({"python_version": "3.11", "abis": ["cp311", 3]}, "abis must be a list of strings"),
        ({"python_version": "3.11", "os": ["linux"]}, "os must be a string"),
    ],
)
def test_a_bad_interpreter_table_fails_when_the_profile_is_read(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidProfile, match=rf"^p\.toml: \[interpreter\] {message}"):
        profile_from_document({"interpreter": table}, where="p.toml")


def test_variant_order_beats_tag_order_and_reasons_name_the_winner() -> None:
    files = page(
        "demo-1.0-py3-none-any-x86_64_v3.whl",
        "demo-1.0-cp311-cp311-manylinux_2_17_x86_64-x86_64_v2.whl",
        "demo-1.0-py3-none-any-null.whl",
        "demo-1.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        "demo-1.0.tar.gz",
        "demo-1.0-variants.json",
    )
    (choice,) = choose(files, profile(V3), {"1.0": LEVELS})
    assert choice.chosen is not None and choice.label == "x86_64_v3"
    assert "ranks first" in choice.reason
    reasons = {r.file.filename: r.reason for r in choice.rejected}
    assert "variants.json" not in " ".join(reasons)  # the metadata file is no candidate
    assert "ranks #2" in reasons["demo-1.0-cp311-cp311-manylinux_2_17_x86_64-x86_64_v2.whl"]
    assert "null variant comes after" in reasons["demo-1.0-py3-none-any-null.whl"]
    assert "before plain wheels" in reasons["demo-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"]
    assert "source distribution" in reasons["demo-1.0.tar.gz"]


def test_null_variant_beats_plain_wheel_when_no_labelled_variant_fits() -> None:
    files = page(
        "demo-1.0-py3-none-any-x86_64_v3.whl",
        "demo-1.0-py3-none-any-null.whl",
        "demo-1.0-py3-none-any.whl",
    )
    (choice,) = choose(files, profile({}), {"1.0": LEVELS})
    assert choice.label == "null"
    reasons = {r.file.filename: r.reason for r in choice.rejected}
    assert "does not fit" in reasons["demo-1.0-py3-none-any-x86_64_v3.whl"]


def test_tags_then_build_number_break_ties_inside_a_label() -> None:
    files = page(
        "demo-1.0-py3-none-any-x86_64_v3.whl",
        "demo-1.0-1-cp311-cp311-manylinux_2_17_x86_64-x86_64_v3.whl",
        "demo-1.0-2-cp311-cp311-manylinux_2_17_x86_64-x86_64_v3.whl",
    )
    (choice,) = choose(files, profile(V3), {"1.0": LEVELS})
    assert choice.chosen is not None
    assert choice.chosen.filename == "demo-1.0-2-cp311-cp311-manylinux_2_17_x86_64-x86_64_v3.whl"
    reasons = {r.file.filename: r.reason for r in choice.rejected}
    assert "build number 1" in reasons["demo-1.0-1-cp311-cp311-manylinux_2_17_x86_64-x86_64_v3.whl"]
    assert "best tag py3-none-any" in reasons["demo-1.0-py3-none-any-x86_64_v3.whl"]


def test_missing_variants_json_makes_variant_wheels_incompatible() -> None:
    files = page("demo-1.0-py3-none-any-x86_64_v3.whl", "demo-1.0-py3-none-any.whl")
    reason = "https://example.org/simple/demo/ lists no demo-1.0-variants.json"
    (choice,) = choose(files, profile(V3), {"1.0": reason})
    assert choice.chosen is not None and choice.chosen.filename == "demo-1.0-py3-none-any.whl"
    assert "no variant wheel fits" in choice.reason
    assert choice.rejected[0].reason == reason


def test_label_missing_from_the_document_is_rejected_naming_it() -> None:
    files = page("demo-1.0-py3-none-any-x86_64_v4.whl", "demo-1.0-variants.json")
    (choice,) = choose(files, profile(V3), {"1.0": LEVELS})
    assert choice.chosen is None
    (rejection,) = choice.rejected
    assert "'x86_64_v4' is not in " + BASE + "demo-1.0-variants.json" in rejection.reason


def test_yanked_and_requires_python_are_never_chosen() -> None:
    files = page(
        "demo-2.0-py3-none-any.whl",
        "demo-2.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
        **{
            "demo-2.0-py3-none-any.whl": {"yanked": "broken"},
            "demo-2.0.tar.gz": {"requires_python": ">=3.12"},
        },
    )
    new, old = choose(files, profile({}), {})
    assert new.version == "2.0" and new.chosen is None
    reasons = {r.file.filename: r.reason for r in new.rejected}
    assert reasons["demo-2.0-py3-none-any.whl"] == "yanked: broken"
    assert "requires Python >=3.12; the target has 3.11.7" in reasons["demo-2.0.tar.gz"]
    assert old.chosen is not None


def test_other_interpreters_get_their_own_tags() -> None:
    arm = {
        "implementation": "cpython",
        "python_version": "3.12.1",
        "platforms": ["manylinux_2_17_aarch64"],
    }
    files = page("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "demo-1.0.tar.gz")
    (choice,) = choose(files, profile({}, arm), {})
    assert choice.chosen is not None and choice.chosen.filename == "demo-1.0.tar.gz"
    assert "do not fit the target interpreter" in choice.rejected[0].reason


def test_resolve_page_keeps_the_best_variant_under_its_plain_name() -> None:
    files = page(
        "demo-1.0-py3-none-any-x86_64_v3.whl",
        "demo-1.0-py3-none-any-x86_64_v2.whl",
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
        "demo-1.0-variants.json",
        "demo-0.9-py3-none-any.whl",
        **{"demo-1.0-py3-none-any-x86_64_v3.whl": {"hashes": MappingProxyType({"sha256": "aa"})}},
    )
    resolved = resolve_page(files, profile(V3), {"1.0": LEVELS})
    assert [(f.filename, f.url) for f in resolved.files] == [
        ("demo-1.0-py3-none-any.whl", BASE + "demo-1.0-py3-none-any-x86_64_v3.whl"),
        ("demo-1.0.tar.gz", BASE + "demo-1.0.tar.gz"),
        ("demo-0.9-py3-none-any.whl", BASE + "demo-0.9-py3-none-any.whl"),
    ]
    assert dict(resolved.files[0].hashes) == {"sha256": "aa"}
    only = resolve_page(files, profile(V3), {"1.0": LEVELS}, only_chosen=True)
    assert [f.filename for f in only.files] == [
        "demo-1.0-py3-none-any.whl",
        "demo-0.9-py3-none-any.whl",
    ]
