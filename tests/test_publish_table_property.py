"""Property tests for the `[variant]` table reader: what TOML says is what the document holds,
and a collision is refused exactly when two labels share their properties."""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from fitwheel.errors import InvalidVariantTable
from fitwheel.publish.table import parse_variant_table
from fitwheel.variants.properties import VariantDescription

LEVELS = st.lists(st.sampled_from(["v1", "v2", "v3", "v4"]), min_size=1, max_size=3, unique=True)
NVIDIA = st.fixed_dictionaries(
    {},
    optional={
        "sm_arch": st.lists(
            st.sampled_from(["80_real", "86_real", "90_real"]), min_size=1, unique=True
        ),
        "cuda_version_lower_bound": st.sampled_from([["12.6"], ["12.8"]]),
    },
).filter(bool)
VARIANT = st.fixed_dictionaries(
    {}, optional={"x86_64": st.fixed_dictionaries({"level": LEVELS}), "nvidia": NVIDIA}
).filter(bool)
LABELS = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(lambda s: s != "null")
VARIANTS = st.dictionaries(LABELS, VARIANT, min_size=1, max_size=6)


def pyproject(variants: dict[str, Any]) -> dict[str, Any]:
    table = {"default-priorities": {"namespace": ["x86_64", "nvidia"]}, "variants": variants}
    # Through real TOML text, as a pyproject.toml would hold it.
    return tomllib.loads(tomli_w.dumps({"variant": table}))


@settings(deadline=None)
@given(VARIANTS)
def test_the_document_holds_what_the_table_says(variants: dict[str, Any]) -> None:
    descriptions = {label: VariantDescription.from_mapping(v) for label, v in variants.items()}
    distinct = len(set(descriptions.values())) == len(descriptions)
    try:
        parsed = parse_variant_table(pyproject(variants), where="p")
    except InvalidVariantTable as exc:
        assert not distinct
        assert "declare the same properties" in str(exc)
        return
    assert distinct
    assert parsed.labels == tuple(variants)
    assert dict(parsed.document.variants) == descriptions


@settings(deadline=None)
@given(st.lists(st.sampled_from(["v4", "v3", "v2", "v1"]), min_size=1, unique=True))
def test_pep817_priority_lists_read_as_their_mapping_form(levels: list[str]) -> None:
    head = {"namespace": ["x86_64"]}
    provider = {"x86_64": {"requires": ["provider-variant-x86-64"], "enable-if": "True"}}
    as_lists = {
        **head,
        "feature": ["x86_64 :: level"],
        "property": [f"x86_64 :: level :: {v}" for v in levels],
    }
    as_mapping = {
        **head,
        "feature": {"x86_64": ["level"]},
        "property": {"x86_64": {"level": levels}},
    }
    documents = [
        parse_variant_table(
            {"variant": {"default-priorities": priorities, "providers": provider}}, where="p"
        ).document
        for priorities in (as_lists, as_mapping)
    ]
    assert documents[0] == documents[1]
    assert documents[0].value_priorities["x86_64"]["level"] == tuple(levels)
