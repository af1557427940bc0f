"""Round trips of the format layer, and the algebra of merging, checked with hypothesis."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from variantlib.models.variant import VariantDescription as VLDescription
from variantlib.models.variant import VariantProperty as VLProperty

from fitwheel.errors import VariantMetadataConflict
from fitwheel.variants.filename import parse_variant_wheel_filename, split_label, with_label
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import (
    SCHEMA_PEP817,
    SCHEMA_PEP825,
    SCHEMA_PROVIDERS,
    ProviderInfo,
    VariantsDocument,
    dumps_variants_document,
    loads_variants_document,
)
from fitwheel.variants.properties import (
    NULL_LABEL,
    VariantDescription,
    VariantProperty,
    parse_property,
)

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=8)
values = st.text("abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=1, max_size=8)
properties = st.builds(VariantProperty, names, names, values)
spaces = st.text(" \t", max_size=3)


@settings(max_examples=300, deadline=None)
@given(properties, st.lists(spaces, min_size=6, max_size=6))
def test_property_parse_format_round_trip(prop: VariantProperty, pad: list[str]) -> None:
    assert parse_property(str(prop)) == prop
    text = f"{pad[0]}{prop.namespace}{pad[1]}::{pad[2]}{prop.feature}{pad[3]}::{pad[4]}{prop.value}{pad[5]}"
    assert parse_property(text) == prop


@settings(max_examples=200, deadline=None)
@given(st.frozensets(properties, max_size=5))
def test_hash_label_is_variantlibs(props: frozenset[VariantProperty]) -> None:
    vl = VLDescription([VLProperty(p.namespace, p.feature, p.value) for p in props])
    assume(props)  # variantlib labels the empty set "null", not with a hash
    assert VariantDescription(props).hash_label() == vl.hexdigest


# -- filenames -----------------------------------------------------------------------------------

dist_names = st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,4})?", fullmatch=True)
versions = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True)
builds = st.from_regex(r"[0-9]{1,3}[a-z0-9_]{0,3}", fullmatch=True)
tag_triples = st.sampled_from(
    [
        "py3-none-any",
        "cp313-cp313-manylinux_2_28_x86_64",
        "py2.py3-none-any",
        "cp312-abi3-win_amd64",
    ]
)
# PEP 825 labels are [0-9a-z_.]+; "null" belongs to the null variant and is generated there.
labels = st.from_regex(r"[0-9a-z_.]{1,12}", fullmatch=True)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(dist_names, versions, st.none() | builds, tag_triples, st.none() | labels)
def test_filename_format_parse_round_trip(
    name: str, version: str, build: str | None, tags: str, label: str | None
) -> None:
    base = "-".join([name, version, *([build] if build else []), tags]) + ".whl"
    filename = with_label(base, label)
    assert split_label(filename) == (base, label)
    parsed = parse_variant_wheel_filename(filename)
    assert parsed.label == label
    assert parsed.base_filename == base
    if build is None:
        assert parsed.build == ()
    else:
        digits = re.match(r"[0-9]+", build)
        assert digits is not None
        assert parsed.build == (int(digits[0]), build[digits.end() :])
    assert parsed.with_label(label) == filename
    assert parsed.with_label(None) == base


# -- variants documents ---------------------------------------------------------------------------

NAMESPACES = ("nvidia", "x86_64", "blas", "amd")


@st.composite
def documents(draw: st.DrawFn, schema: str = SCHEMA_PEP825) -> VariantsDocument:
    priorities = tuple(draw(st.permutations(NAMESPACES)))[: draw(st.integers(1, len(NAMESPACES)))]
    prop = st.builds(
        VariantProperty, st.sampled_from(priorities), st.sampled_from(["f", "g"]), values
    )
    variants: dict[str, VariantDescription] = {}
    for description in draw(st.lists(st.frozensets(prop, min_size=1, max_size=4), max_size=5)):
        variants[draw(labels.filter(lambda s: s != NULL_LABEL))] = VariantDescription(description)
    if draw(st.booleans()):
        variants[NULL_LABEL] = VariantDescription()
    extra: dict[str, Any] = {}
    if schema != SCHEMA_PEP825:
        extra["providers"] = {ns: ProviderInfo(requires=(f"{ns}-provider",)) for ns in priorities}
    if schema == SCHEMA_PEP817:
        extra["feature_priorities"] = {priorities[0]: ("g", "f")}
        extra["value_priorities"] = {priorities[0]: {"f": ("1", "0")}}
        extra["providers"] = {
            ns: ProviderInfo(requires=(f"{ns}-provider",), enable_if="platform_system == 'Linux'")
            for ns in priorities
        }
    return VariantsDocument(
        namespace_priorities=priorities, variants=variants, schema=schema, **extra
    ).validate(where="generated")


def same(a: VariantsDocument, b: VariantsDocument) -> bool:
    return (
        a.namespace_priorities == b.namespace_priorities
        and dict(a.variants) == dict(b.variants)
        and a.schema == b.schema
        and dict(a.providers) == dict(b.providers)
        and {k: dict(v) for k, v in a.static_properties.items()}
        == {k: dict(v) for k, v in b.static_properties.items()}
        and dict(a.feature_priorities) == dict(b.feature_priorities)
        and {k: dict(v) for k, v in a.value_priorities.items()}
        == {k: dict(v) for k, v in b.value_priorities.items()}
    )


@pytest.mark.slow
@pytest.mark.parametrize("schema", [SCHEMA_PEP825, SCHEMA_PROVIDERS, SCHEMA_PEP817])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_document_dumps_loads_round_trip(schema: str, data: st.DataObject) -> None:
    document = data.draw(documents(schema))
    text = dumps_variants_document(document)
    again = loads_variants_document(text, where="round trip")
    assert same(again, document)
    assert dumps_variants_document(again) == text


# -- merging ------------------------------------------------------------------------------------


@st.composite
def compatible_documents(draw: st.DrawFn, count: int) -> list[VariantsDocument]:
    """`count` documents of one release: prefix namespace lists, consistent labels."""
    whole = draw(documents())
    labels_ = sorted(whole.variants)
    out = []
    for _ in range(count):
        keep = draw(st.lists(st.sampled_from(labels_), unique=True)) if labels_ else []
        used = {ns for label in keep for ns in whole.variants[label].namespaces}
        shortest = max((whole.namespace_priorities.index(ns) + 1 for ns in used), default=1)
        length = draw(st.integers(shortest, len(whole.namespace_priorities)))
        out.append(
            VariantsDocument(
                namespace_priorities=whole.namespace_priorities[:length],
                variants={label: whole.variants[label] for label in keep},
            )
        )
    return out


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(compatible_documents(3))
def test_merge_is_commutative_associative_idempotent(docs: list[VariantsDocument]) -> None:
    a, b, c = docs
    assert same(merge_documents(a, b), merge_documents(b, a))
    assert same(
        merge_documents(merge_documents(a, b), c), merge_documents(a, merge_documents(b, c))
    )
    assert same(merge_documents(a, a), a)
    merged = merge_documents(a, b)
    assert same(merge_documents(merged, merged), merged)
    assert set(merged.variants) == set(a.variants) | set(b.variants)


@settings(max_examples=100, deadline=None)
@given(labels.filter(lambda s: s != NULL_LABEL), names, names, values, names, values)
def test_merge_conflicting_label_raises(
    label: str, namespace: str, f1: str, v1: str, f2: str, v2: str
) -> None:
    assume((f1, v1) != (f2, v2))
    one, two = (
        VariantsDocument(
            namespace_priorities=(namespace,),
            variants={label: VariantDescription(frozenset([VariantProperty(namespace, f, v)]))},
        )
        for f, v in ((f1, v1), (f2, v2))
    )
    with pytest.raises(VariantMetadataConflict, match=re.escape(repr(label))):
        merge_documents(one, two)
    with pytest.raises(VariantMetadataConflict, match=re.escape(repr(label))):
        merge_documents(two, one)
