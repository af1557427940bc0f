"""What a target supports: namespace -> feature -> values, each list most preferred first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fitwheel.errors import InvalidProperty
from fitwheel.variants.properties import NAME_RE, VALUE_RE, VariantProperty

SupportMapping = Mapping[str, Mapping[str, Iterable[str]]]


@dataclass(frozen=True)
class SupportedProperties:
    """Supported variant properties in preference order.

    The order of features inside a namespace is the feature order; the order of values is
    the value order. A namespace or feature that is absent is unsupported.
    """

    namespaces: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @classmethod
    def from_mapping(cls, data: SupportMapping, *, where: str = "profile") -> SupportedProperties:  # noqa: C901
        if not isinstance(data, Mapping):
            raise InvalidProperty(f"{where}: [variants] must be a table of namespaces")
        namespaces: dict[str, Mapping[str, tuple[str, ...]]] = {}
        for namespace, features in data.items():
            if not NAME_RE.fullmatch(namespace):
                raise InvalidProperty(f"{where}: invalid namespace {namespace!r}")
            if not isinstance(features, Mapping):
                raise InvalidProperty(
                    f"{where}: [variants.{namespace}] must map features to value lists"
                )
            table: dict[str, tuple[str, ...]] = {}
            for feature, values in features.items():
                if not NAME_RE.fullmatch(feature):
                    raise InvalidProperty(f"{where}: invalid feature {namespace}.{feature!r}")
                if isinstance(values, str) or not isinstance(values, Iterable):
                    raise InvalidProperty(
                        f"{where}: {namespace}.{feature} must be a list of values, got {values!r}"
                    )
                checked: list[str] = []
                for value in values:
                    if not isinstance(value, str) or not VALUE_RE.fullmatch(value):
                        raise InvalidProperty(
                            f"{where}: invalid value {value!r} for {namespace} :: {feature}"
                        )
                    if value not in checked:
                        checked.append(value)
                if checked:
                    table[feature] = tuple(checked)
            if table:
                namespaces[namespace] = MappingProxyType(table)
        return cls(MappingProxyType(namespaces))

    @classmethod
    def from_properties(cls, properties: Iterable[VariantProperty]) -> SupportedProperties:
        """Build from an ordered property list: first appearance fixes feature and value order."""
        data: dict[str, dict[str, list[str]]] = {}
        for prop in properties:
            values = data.setdefault(prop.namespace, {}).setdefault(prop.feature, [])
            if prop.value not in values:
                values.append(prop.value)
        return cls.from_mapping(data)

    def values(self, namespace: str, feature: str) -> tuple[str, ...]:
        return self.namespaces.get(namespace, {}).get(feature, ())

    def properties(self) -> Iterator[VariantProperty]:
        for namespace, features in self.namespaces.items():
            for feature, values in features.items():
                for value in values:
                    yield VariantProperty(namespace, feature, value)

    def merged(self, other: SupportedProperties) -> SupportedProperties:
        """`other`'s namespaces replace this one's (used for static properties and overrides)."""
        combined = dict(self.namespaces)
        combined.update(other.namespaces)
        return SupportedProperties(MappingProxyType(combined))

    def to_mapping(self) -> dict[str, dict[str, list[str]]]:
        return {
            ns: {feature: list(values) for feature, values in features.items()}
            for ns, features in self.namespaces.items()
        }

    def __len__(self) -> int:
        return sum(len(v) for f in self.namespaces.values() for v in f.values())
