"""Merging two variants documents of one release (e.g. from two build machines)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from fitwheel.errors import VariantMetadataConflict
from fitwheel.variants.metadata import SchemaGeneration, VariantsDocument, schema_generation
from fitwheel.variants.properties import VariantDescription

_GENERATION_RANK = {
    SchemaGeneration.PEP817: 0,
    SchemaGeneration.PROVIDERS: 1,
    SchemaGeneration.PEP825: 2,
}
V = TypeVar("V")


def _union(what: str, a: Mapping[str, V], b: Mapping[str, V]) -> Mapping[str, V]:
    merged = dict(a)
    for key, value in b.items():
        if key in merged and merged[key] != value:
            raise VariantMetadataConflict(
                f"cannot merge: {what} {key!r} differs between the two documents "
                f"({_show(merged[key])} vs {_show(value)})"
            )
        merged[key] = value
    return MappingProxyType(dict(sorted(merged.items())))


def _show(value: object) -> str:
    if isinstance(value, VariantDescription):
        return "{" + str(value) + "}"
    return repr(value)


def merge_documents(a: VariantsDocument, b: VariantsDocument) -> VariantsDocument:
    """Merge two documents; the result does not depend on the order of the arguments.

    Namespace priority lists must be prefixes of each other (the longer wins); variants are
    the union; a label that maps to two different property sets is a conflict, and so is a
    provider, static property or priority table described two different ways.
    """
    short, long = sorted((a.namespace_priorities, b.namespace_priorities), key=len)
    if long[: len(short)] != short:
        raise VariantMetadataConflict(
            "cannot merge: default-priorities.namespace lists are not prefixes of each other "
            f"({list(a.namespace_priorities)} vs {list(b.namespace_priorities)})"
        )
    providers = _union("provider for namespace", a.providers, b.providers)
    schema = max(
        (a.schema, b.schema),
        key=lambda s: (_GENERATION_RANK[schema_generation(s, where="merge")], s),
    )
    if providers and schema_generation(schema, where="merge") is SchemaGeneration.PEP825:
        # PEP 825 files carry no provider table; keep the generation that can hold it.
        schema = min(
            (a.schema, b.schema),
            key=lambda s: (_GENERATION_RANK[schema_generation(s, where="merge")], s),
        )
    return VariantsDocument(
        namespace_priorities=long,
        variants=_union("label", a.variants, b.variants),
        schema=schema,
        providers=providers,
        static_properties=_union(
            "static-properties for namespace", a.static_properties, b.static_properties
        ),
        feature_priorities=_union(
            "feature priorities for namespace", a.feature_priorities, b.feature_priorities
        ),
        value_priorities=_union(
            "property priorities for namespace", a.value_priorities, b.value_priorities
        ),
    ).validate(where="merged document")
