"""PEP 825 ordering: which variants of a release a target can use, best first, and why not.

Pure code. The caller supplies what the target supports (a profile's `SupportedProperties`);
the release's own document adds its static properties, switches off optional providers that
are not enabled and evaluates PEP 817-era `enable-if` markers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fitwheel.errors import InvalidMarker
from fitwheel.variants.known_providers import builtin_refusal, provider_project
from fitwheel.variants.markers import evaluate_marker
from fitwheel.variants.metadata import VariantsDocument
from fitwheel.variants.properties import DeclaredFeature, VariantDescription
from fitwheel.variants.support import SupportedProperties

_END = 1 << (4 * 32)
"""After every packed key: a key list that is a prefix of another sorts after it."""
_SHOWN_VALUES = 6


@dataclass(frozen=True)
class Ranking:
    """Compatible labels best first (null variant last, when listed) and why the rest are out."""

    ranked: tuple[str, ...]
    excluded: Mapping[str, str]

    def position(self, label: str) -> int | None:
        try:
            return self.ranked.index(label)
        except ValueError:
            return None

    def to_json(self) -> dict[str, object]:
        return {"ranked": list(self.ranked), "excluded": dict(self.excluded)}


@dataclass(frozen=True)
class EffectiveSupport:
    """What the target supports for one release, and why some namespaces are unavailable."""

    supported: SupportedProperties
    unavailable: Mapping[str, str]


def effective_support(
    document: VariantsDocument,
    supported: SupportedProperties,
    *,
    enabled_optional: Collection[str] = (),
    environment: Mapping[str, str] | None = None,
    provided_namespaces: Collection[str] | None = None,
) -> EffectiveSupport:
    """Combine the target's support with what the release's document says.

    `provided_namespaces` are the namespaces the caller has a built-in provider for (None:
    trust `supported` alone). A namespace outside it, with no static properties in the
    document, is reported as served by an unknown provider; one inside it is served only when
    the document's provider entry fits the built-in (`known_providers.builtin_refusal`).
    """
    namespaces = dict(supported.namespaces)
    unavailable: dict[str, str] = {}
    used = document.used_namespaces
    for namespace in sorted(used | set(document.providers) | set(document.static_properties)):
        provider = document.providers.get(namespace)
        if namespace in document.static_properties:
            namespaces[namespace] = document.static_properties[namespace]
            continue
        if provider is not None and provider.optional and namespace not in enabled_optional:
            namespaces.pop(namespace, None)
            unavailable[namespace] = (
                f"the provider of namespace {namespace!r} is optional and not enabled"
            )
            continue
        if (
            provider is not None
            and provider.enable_if is not None
            and not _enabled(provider.enable_if, namespace, environment)
        ):
            namespaces.pop(namespace, None)
            unavailable[namespace] = (
                f"the provider of namespace {namespace!r} is disabled on this target by its "
                f"enable-if marker {provider.enable_if!r}"
            )
            continue
        if (
            provider is not None
            and provided_namespaces is not None
            and namespace in provided_namespaces
        ):
            refusal = builtin_refusal(namespace, provider.requires, provider.plugin_api)
            if refusal is not None:
                namespaces.pop(namespace, None)
                unavailable[namespace] = refusal
                continue
        if namespace in namespaces:
            continue
        if provided_namespaces is not None and namespace not in provided_namespaces:
            who = f" ({provider.describe()})" if provider is not None else ""
            owner = provider_project(provider.requires, provider.plugin_api) if provider else None
            if owner is not None and owner != namespace:
                who += f", the provider of namespace {owner!r}"
            unavailable[namespace] = (
                f"namespace {namespace!r} needs a provider{who} that fitwheel does not have "
                "built in, and the release gives no static-properties for it"
            )
        else:
            unavailable[namespace] = f"the target supports nothing in namespace {namespace!r}"
    return EffectiveSupport(
        SupportedProperties(MappingProxyType(namespaces)), MappingProxyType(unavailable)
    )


def _enabled(marker: str, namespace: str, environment: Mapping[str, str] | None) -> bool:
    if environment is None:
        raise InvalidMarker(
            f"the provider of namespace {namespace!r} has an enable-if marker ({marker!r}), "
            "so ranking needs the target's marker environment (Target.environment)"
        )
    return evaluate_marker(marker, environment=environment)


def rank(
    document: VariantsDocument,
    supported: SupportedProperties,
    *,
    enabled_optional: Collection[str] = (),
    environment: Mapping[str, str] | None = None,
    provided_namespaces: Collection[str] | None = None,
) -> Ranking:
    """Order the release's variants for a target, as PEP 825 specifies."""
    support = effective_support(
        document,
        supported,
        enabled_optional=enabled_optional,
        environment=environment,
        provided_namespaces=provided_namespaces,
    )
    return rank_descriptions(
        document.variants,
        document.namespace_priorities,
        support.supported,
        feature_priorities=document.feature_priorities,
        value_priorities=document.value_priorities,
        unavailable=support.unavailable,
    )


_FIELD = 32
_NONZERO = 1 << (3 * _FIELD)


def _key(namespace_index: int, feature_index: int, value_index: int) -> int:
    """(namespace, feature, value) indices as one int that orders as the tuple does (each
    index is below 2**32: a profile or document bounded in size), never 0."""
    return _NONZERO | namespace_index << 2 * _FIELD | feature_index << _FIELD | value_index


class _Orders:
    """Index lookups: the sort key of each supported value of each (namespace, feature)."""

    def __init__(
        self,
        namespace_priorities: tuple[str, ...],
        supported: SupportedProperties,
        feature_priorities: Mapping[str, tuple[str, ...]],
        value_priorities: Mapping[str, Mapping[str, tuple[str, ...]]],
    ) -> None:
        self.values: dict[tuple[str, str], dict[str, int]] = {}
        """(namespace, feature) -> value -> its full key: (namespace, feature, value index)
        packed in one int (`_key`), so a variant's key list compares as ints."""
        for ns_index, namespace in enumerate(namespace_priorities):
            features = supported.namespaces.get(namespace)
            if not features:
                continue
            preferred = [f for f in feature_priorities.get(namespace, ()) if f in features]
            order = preferred + [f for f in features if f not in preferred]
            for f_index, feature in enumerate(order):
                values = features[feature]
                first = [
                    v for v in value_priorities.get(namespace, {}).get(feature, ()) if v in values
                ]
                ordered = first + [v for v in values if v not in first]
                self.values[(namespace, feature)] = {
                    v: _key(ns_index, f_index, i) for i, v in enumerate(ordered)
                }


def rank_descriptions(
    variants: Mapping[str, VariantDescription],
    namespace_priorities: tuple[str, ...],
    supported: SupportedProperties,
    *,
    feature_priorities: Mapping[str, tuple[str, ...]] = MappingProxyType({}),
    value_priorities: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType({}),
    unavailable: Mapping[str, str] = MappingProxyType({}),
) -> Ranking:
    """Rank labelled variants.

    Each compatible variant gets the sorted list of `(namespace index, feature index, best
    value index)` over its features; lists compare lexicographically, a list that is a prefix
    of another loses to it (more properties win), and a full tie is broken by label. The null
    variant's list is empty, so it follows every real variant.
    """
    best = _BestValues(
        _Orders(namespace_priorities, supported, feature_priorities, value_priorities).values
    )
    keyed: list[tuple[list[int | None], str]] = []
    excluded: dict[str, str] = {}
    for label, description in variants.items():
        # One C-level pass per label: each distinct declared feature's best key is computed
        # once per release (`_BestValues.__missing__`), then looked up by identity.
        key: list[int | None] = list(map(best.__getitem__, description.declared))
        if None in key:
            entry = description.declared[key.index(None)]
            excluded[label] = _unsupported(entry, best.lookups.get(entry.key), unavailable)
            continue
        key.sort()
        key.append(_END)
        keyed.append((key, label))
    keyed.sort()
    return Ranking(tuple(label for _, label in keyed), MappingProxyType(excluded))


class _BestValues(dict[DeclaredFeature, "int | None"]):
    """Declared feature -> the key of its best supported value (None: none supported)."""

    def __init__(self, lookups: dict[tuple[str, str], dict[str, int]]) -> None:
        super().__init__()
        self.lookups = lookups

    def __missing__(self, entry: DeclaredFeature) -> int | None:
        lookup = self.lookups.get(entry.key)
        best = None
        if lookup is not None:
            # Keys of one feature differ only in the value index: the least is the best value.
            best = min(filter(None, map(lookup.get, entry.values)), default=None)
        self[entry] = best
        return best


def _unsupported(
    entry: DeclaredFeature,
    lookup: Mapping[str, object] | None,
    unavailable: Mapping[str, str],
) -> str:
    (namespace, feature), values = entry.key, entry.values
    if lookup is None:
        return unavailable.get(namespace) or (
            f"the target supports nothing for {namespace} :: {feature}"
        )
    return (
        f"{namespace} :: {feature}: none of {_shown(values)} is supported "
        f"(the target supports {_shown(tuple(lookup))})"
    )


def _shown(values: tuple[str, ...]) -> str:
    if len(values) <= _SHOWN_VALUES:
        return ", ".join(values)
    return ", ".join(values[:_SHOWN_VALUES]) + f", … ({len(values)} in all)"
