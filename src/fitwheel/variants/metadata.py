"""`variant.json` (in a wheel) and `{name}-{version}-variants.json` (per release) documents.

Three schema generations are read: the PEP 817-era `v0.0.3` (providers with `enable-if`,
`install-time`; top-level `static-properties`), the providers draft `v0.2.0` that variantlib
0.2.x writes (per-provider `static-properties`, `optional`, `feature-order`), and PEP 825
`v0.1.1` (namespace priorities and variants). In every generation `default-priorities.feature`
and `.property` are PEP 825's optional overrides of the feature and value order.

A provider entry follows the providers draft's structural rules in every generation: exactly
one of `requires`, `static-properties`, `builtin`, `build-requires`; `plugin-api` only with a
requirement and only as an object reference; `feature-order` only with, and covering, the
static features. A machine namespace (`MACHINE_NAMESPACES`) is never static.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property
from types import MappingProxyType
from typing import Any

from fitwheel.decoding import loads_json
from fitwheel.errors import InvalidLabel, InvalidProperty, InvalidVariantMetadata
from fitwheel.variants.known_providers import MACHINE_NAMESPACES
from fitwheel.variants.properties import (
    LABEL_RE,
    NAME_RE,
    NULL_LABEL,
    VALUE_RE,
    VariantDescription,
    descriptions_from_mapping,
    validate_label,
)

SCHEMA_PEP817 = "https://variants-schema.wheelnext.dev/v0.0.3.json"
SCHEMA_PROVIDERS = "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
"""What fitwheel writes for the providers draft; uv knows this URL (variantlib 0.2.x writes
`…/v0.2.0.json` without `peps/850/`, which reads the same)."""
SCHEMA_PEP825 = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"
SUPPORTED_MAJOR = 0
_LABELS_RE = re.compile(r"[0-9a-z_.]+(?:\n[0-9a-z_.]+)*")
"""Every label of a document, joined by newlines (`LABEL_RE` for each)."""
_VERSION_RE = re.compile(r"/v(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)\.json$")

FeatureValues = Mapping[str, tuple[str, ...]]
"""feature -> values, in order."""


class SchemaGeneration(Enum):
    PEP817 = "pep817"
    PROVIDERS = "providers"
    PEP825 = "pep825"


def schema_generation(schema: str, *, where: str) -> SchemaGeneration:
    """Which generation a `$schema` URL belongs to; an unknown major version is an error."""
    match = _VERSION_RE.search(schema)
    if match is None:
        raise InvalidVariantMetadata(
            f"{where}: unrecognised $schema {schema!r} (expected a URL ending in /vX.Y.Z.json)"
        )
    major, minor = int(match["major"]), int(match["minor"])
    if major != SUPPORTED_MAJOR:
        raise InvalidVariantMetadata(
            f"{where}: $schema {schema!r} is major version {major}; this fitwheel reads only "
            f"major version {SUPPORTED_MAJOR} — upgrade fitwheel to read it"
        )
    if "/peps/825/" in schema:
        return SchemaGeneration.PEP825
    if minor == 0:
        return SchemaGeneration.PEP817
    return SchemaGeneration.PROVIDERS


@dataclass(frozen=True)
class ProviderInfo:
    """A namespace's provider as a variants document describes it."""

    requires: tuple[str, ...] = ()
    plugin_api: str | None = None
    optional: bool = False
    enable_if: str | None = None
    install_time: bool = True
    feature_order: tuple[str, ...] = ()
    build_requires: tuple[str, ...] = ()
    builtin: str | None = None

    def describe(self) -> str:
        parts = []
        if self.requires:
            parts.append(f"requires {', '.join(self.requires)}")
        if self.plugin_api:
            parts.append(f"plugin-api {self.plugin_api}")
        if self.builtin:
            parts.append(f"builtin {self.builtin}")
        return "; ".join(parts) or "no requirements"


def _frozen(data: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Mapping[str, FeatureValues]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in data.items()})


@dataclass(frozen=True)
class VariantsDocument:
    """One variants document; `variants` maps each label to its properties."""

    namespace_priorities: tuple[str, ...]
    variants: Mapping[str, VariantDescription]
    schema: str = SCHEMA_PEP825
    providers: Mapping[str, ProviderInfo] = field(default_factory=lambda: MappingProxyType({}))
    static_properties: Mapping[str, FeatureValues] = field(
        default_factory=lambda: MappingProxyType({})
    )
    feature_priorities: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    value_priorities: Mapping[str, FeatureValues] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def _labels_and_namespaces_valid(self) -> bool:
        """The common case of `validate`, checked with a few C-level passes over the labels
        (thousands in a large release); False sends `validate` to find and name the problem."""
        labels = self.variants
        try:
            valid_labels = not labels or _LABELS_RE.fullmatch("\n".join(labels)) is not None
        except TypeError:  # a label that is not a string
            return False
        null = labels.get(NULL_LABEL)
        return (
            valid_labels
            and (null is None or null.is_null)
            and all(d.declared for label, d in labels.items() if label != NULL_LABEL)
            and self.used_namespaces <= set(self.namespace_priorities)
        )

    @cached_property
    def used_namespaces(self) -> frozenset[str]:
        """Every namespace a variant of the document uses."""
        return frozenset(entry.key[0] for d in self.variants.values() for entry in d.declared)

    @property
    def generation(self) -> SchemaGeneration:
        return schema_generation(self.schema, where="document")

    @property
    def single_label(self) -> str:
        """The one label of a wheel's `variant.json`."""
        if len(self.variants) != 1:
            raise InvalidVariantMetadata(
                f"variant.json must describe exactly one variant, found {len(self.variants)}"
            )
        return next(iter(self.variants))

    def with_variants(self, variants: Mapping[str, VariantDescription]) -> VariantsDocument:
        return replace(self, variants=MappingProxyType(dict(variants)))

    def validate(self, *, where: str) -> VariantsDocument:
        """Check the cross-field rules; return self so it can be chained."""
        if self._labels_and_namespaces_valid():
            return self
        listed = set(self.namespace_priorities)
        used = self.used_namespaces
        for label, description in self.variants.items():
            if not isinstance(label, str) or LABEL_RE.fullmatch(label) is None:
                raise InvalidVariantMetadata(f"{where}: {_label_error(label)}")
            if (label == NULL_LABEL) != description.is_null:
                raise InvalidVariantMetadata(
                    f"{where}: label 'null' is reserved for the variant with no properties "
                    f"(label {label!r} has {len(description.properties)} properties)"
                )
            if used <= listed:
                continue
            missing = description.namespaces - listed
            if missing:
                raise InvalidVariantMetadata(
                    f"{where}: variant {label!r} uses namespace(s) {', '.join(sorted(missing))} "
                    "not listed in default-priorities.namespace"
                )
        return self


def _label_error(label: object) -> str:
    try:
        validate_label(label)  # type: ignore[arg-type]
    except InvalidLabel as exc:
        return str(exc)
    return f"invalid variant label {label!r}"


def _expect(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise InvalidVariantMetadata(f"{where}: {message}")


def _names(value: Any, where: str, key: str, pattern: re.Pattern[str] = NAME_RE) -> tuple[str, ...]:
    _expect(isinstance(value, list), where, f"{key} must be a list of strings")
    for item in value:
        _expect(
            isinstance(item, str) and pattern.fullmatch(item) is not None,
            where,
            f"{key} has an invalid entry {item!r}",
        )
    _expect(len(set(value)) == len(value), where, f"{key} has duplicate entries")
    return tuple(value)


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    _expect(
        isinstance(value, list) and all(isinstance(v, str) for v in value),
        where,
        f"{key} must be a list of strings",
    )
    return tuple(value)


def _feature_values(value: Any, where: str, key: str) -> dict[str, tuple[str, ...]]:
    _expect(isinstance(value, dict), where, f"{key} must map features to value lists")
    out = {}
    for feature, values in value.items():
        _expect(
            NAME_RE.fullmatch(feature) is not None, where, f"{key} has invalid feature {feature!r}"
        )
        out[feature] = _names(values, where, f"{key}.{feature}", VALUE_RE)
    return out


def _namespace_table(value: Any, where: str, key: str) -> dict[str, dict[str, tuple[str, ...]]]:
    _expect(isinstance(value, dict), where, f"{key} must map namespaces to tables")
    out = {}
    for namespace, table in value.items():
        _expect(
            NAME_RE.fullmatch(namespace) is not None,
            where,
            f"{key} has invalid namespace {namespace!r}",
        )
        out[namespace] = _feature_values(table, where, f"{key}.{namespace}")
    return out


_PLUGIN_API_RE = re.compile(
    r"(?P<module>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"(?:\s*:\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))?"
)
"""An object reference (`module.path` or `module.path:attr.path`), as entry points write it."""


def _provider(
    raw: Any, where: str, key: str, generation: SchemaGeneration
) -> tuple[ProviderInfo, dict[str, tuple[str, ...]] | None]:
    """One `providers.NS` entry and its `static-properties` (None when it has none)."""
    _expect(isinstance(raw, dict), where, f"{key} must be an object")
    plugin_api = raw.get("plugin-api")
    enable_if = raw.get("enable-if")
    builtin = raw.get("builtin")
    _expect(builtin is None or isinstance(builtin, str), where, f"{key}.builtin must be a string")
    _expect(
        plugin_api is None or isinstance(plugin_api, str),
        where,
        f"{key}.plugin-api must be a string",
    )
    _expect(
        plugin_api is None or _PLUGIN_API_RE.fullmatch(plugin_api) is not None,
        where,
        f"{key}.plugin-api {plugin_api!r} is not an object reference ('module.path' or "
        "'module.path:attribute')",
    )
    _expect(
        enable_if is None or isinstance(enable_if, str),
        where,
        f"{key}.enable-if must be a string",
    )
    for flag in ("optional", "install-time"):
        _expect(
            isinstance(raw.get(flag, False), bool), where, f"{key}.{flag} must be true or false"
        )
    static = None
    if "static-properties" in raw:
        static = _feature_values(raw["static-properties"], where, f"{key}.static-properties")
    feature_order = _names(raw.get("feature-order", []), where, f"{key}.feature-order")
    if "feature-order" in raw:
        _expect(
            static is not None,
            where,
            f"{key}: feature-order is valid only with static-properties (rule: feature-order "
            "orders static features)",
        )
    if static is not None and (feature_order or len(static) > 1):
        _expect(
            set(feature_order) == set(static),
            where,
            f"{key}: feature-order must list exactly the static features "
            f"({', '.join(sorted(static))}), found {', '.join(feature_order) or 'none'}",
        )
    provider = ProviderInfo(
        requires=_requirements(raw.get("requires"), where, f"{key}.requires", generation),
        plugin_api=plugin_api,
        optional=raw.get("optional", False),
        enable_if=enable_if,
        install_time=raw.get("install-time", True),
        feature_order=feature_order,
        build_requires=_requirements(
            raw.get("build-requires"), where, f"{key}.build-requires", generation
        ),
        builtin=builtin,
    )
    return provider, static


def _requirements(
    value: Any, where: str, key: str, generation: SchemaGeneration
) -> tuple[str, ...]:
    if value is None:
        return ()
    requirements = _strings(value, where, key)
    _expect(
        bool(requirements) and all(r.strip() for r in requirements),
        where,
        f"{key} must list at least one non-empty requirement",
    )
    return requirements


def _check_provider_kind(
    namespace: str, provider: ProviderInfo, has_static: bool, where: str
) -> None:
    """The providers draft's rule: a namespace gets its properties in exactly one way."""
    key = f"providers.{namespace}"
    kinds = [
        name
        for name, present in (
            ("requires", bool(provider.requires)),
            ("static-properties", has_static),
            ("builtin", provider.builtin is not None),
            ("build-requires", bool(provider.build_requires)),
        )
        if present
    ]
    if provider.plugin_api is not None and not (provider.requires or provider.build_requires):
        raise InvalidVariantMetadata(
            f"{where}: {key}: plugin-api is valid only with requires or build-requires "
            "(rule: a plugin-api names an object of the required provider package)"
        )
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none of them"
        raise InvalidVariantMetadata(
            f"{where}: {key}: exactly one of requires, static-properties, builtin or "
            f"build-requires must be given, found {found} (rule: a namespace is either "
            "reported by a provider or static)"
        )


def parse_variants_document(data: Any, *, where: str) -> VariantsDocument:
    """Validate and read a decoded variants document of any supported generation."""
    _expect(isinstance(data, dict), where, "a variants document must be a JSON object")
    schema = data.get("$schema")
    _expect(isinstance(schema, str), where, "missing or non-string $schema")
    generation = schema_generation(schema, where=where)

    priorities = data.get("default-priorities", {})
    _expect(isinstance(priorities, dict), where, "default-priorities must be an object")
    namespace_priorities = _names(
        priorities.get("namespace", []), where, "default-priorities.namespace"
    )
    feature_priorities: dict[str, tuple[str, ...]] = {}
    raw_features = priorities.get("feature", {})
    _expect(isinstance(raw_features, dict), where, "default-priorities.feature must be an object")
    for namespace, features in raw_features.items():
        _expect(
            NAME_RE.fullmatch(namespace) is not None,
            where,
            f"default-priorities.feature has invalid namespace {namespace!r}",
        )
        feature_priorities[namespace] = _names(
            features, where, f"default-priorities.feature.{namespace}"
        )
    value_priorities = _namespace_table(
        priorities.get("property", {}), where, "default-priorities.property"
    )
    static: dict[str, dict[str, tuple[str, ...]]] = {}
    if generation is SchemaGeneration.PEP817:
        static = _namespace_table(data.get("static-properties", {}), where, "static-properties")

    providers: dict[str, ProviderInfo] = {}
    raw_providers = data.get("providers", {})
    _expect(isinstance(raw_providers, dict), where, "providers must be an object")
    for namespace, raw in raw_providers.items():
        _expect(
            NAME_RE.fullmatch(namespace) is not None,
            where,
            f"invalid provider namespace {namespace!r}",
        )
        provider, provider_static = _provider(raw, where, f"providers.{namespace}", generation)
        if provider_static is not None:
            static[namespace] = provider_static
        providers[namespace] = provider
        _check_provider_kind(namespace, provider, namespace in static, where)
        if provider.feature_order:
            feature_priorities.setdefault(namespace, provider.feature_order)
    for namespace in static:
        _expect(
            namespace not in MACHINE_NAMESPACES,
            where,
            f"static-properties for namespace {namespace!r}: a machine namespace (one of "
            f"{', '.join(MACHINE_NAMESPACES)}) is reported by its provider and can never be "
            "static, or every machine would accept every listed value",
        )

    raw_variants = data.get("variants")
    _expect(isinstance(raw_variants, dict), where, "missing or non-object 'variants'")
    try:
        variants = descriptions_from_mapping(raw_variants, where=where)
    except InvalidProperty as exc:
        raise InvalidVariantMetadata(str(exc)) from None

    return VariantsDocument(
        namespace_priorities=namespace_priorities,
        variants=MappingProxyType(variants),
        schema=schema,
        providers=MappingProxyType(providers),
        static_properties=_frozen(static),
        feature_priorities=MappingProxyType(feature_priorities),
        value_priorities=_frozen(value_priorities),
    ).validate(where=where)


def loads_variants_document(text: str | bytes, *, where: str) -> VariantsDocument:
    data = loads_json(text, where=where, error=InvalidVariantMetadata)
    return parse_variants_document(data, where=where)


def document_to_json(document: VariantsDocument, *, schema: str | None = None) -> dict[str, Any]:  # noqa: C901
    """The JSON object for `document`, in the shape of `schema` (default: its own)."""
    schema = schema or document.schema
    generation = schema_generation(schema, where="output schema")
    priorities: dict[str, Any] = {"namespace": list(document.namespace_priorities)}
    out: dict[str, Any] = {"$schema": schema, "default-priorities": priorities}

    def plain(table: Mapping[str, FeatureValues]) -> dict[str, dict[str, list[str]]]:
        return {ns: {f: list(v) for f, v in feats.items()} for ns, feats in table.items()}

    if generation is not SchemaGeneration.PROVIDERS:
        # PEP 825 keeps PEP 817's order overrides; the providers draft orders through
        # each provider's feature-order and static-properties instead.
        own_features = {
            ns: list(f)
            for ns, f in document.feature_priorities.items()
            if f != document.providers.get(ns, ProviderInfo()).feature_order
        }
        if own_features:
            priorities["feature"] = own_features
        if document.value_priorities:
            priorities["property"] = plain(document.value_priorities)
    if generation is SchemaGeneration.PEP817 and document.static_properties:
        out["static-properties"] = plain(document.static_properties)
    providers: dict[str, dict[str, Any]] = {}
    per_provider_static = generation is not SchemaGeneration.PEP817
    for namespace in sorted(
        set(document.providers)
        | (set(document.static_properties) if per_provider_static else set())
    ):
        info = document.providers.get(namespace, ProviderInfo())
        entry: dict[str, Any] = {}
        if info.requires:
            entry["requires"] = list(info.requires)
        if info.plugin_api is not None:
            entry["plugin-api"] = info.plugin_api
        if info.optional:
            entry["optional"] = True
        if generation is SchemaGeneration.PEP817:
            if info.enable_if is not None:
                entry["enable-if"] = info.enable_if
            if not info.install_time:
                entry["install-time"] = False
        if per_provider_static:
            if namespace in document.static_properties:
                entry["static-properties"] = plain(document.static_properties)[namespace]
            static = document.static_properties.get(namespace, {})
            order = info.feature_order or (tuple(static) if len(static) > 1 else ())
            if order:
                entry["feature-order"] = list(order)
            if info.builtin is not None:
                entry["builtin"] = info.builtin
        providers[namespace] = entry
    if providers:
        out["providers"] = providers
    out["variants"] = {
        label: document.variants[label].to_mapping() for label in sorted(document.variants)
    }
    return out


def dumps_variants_document(document: VariantsDocument, *, schema: str | None = None) -> str:
    return json.dumps(document_to_json(document, schema=schema), indent=2, sort_keys=False) + "\n"
