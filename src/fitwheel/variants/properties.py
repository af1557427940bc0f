"""Variant properties (`namespace :: feature :: value`), variant descriptions and labels."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from fitwheel.errors import InvalidLabel, InvalidProperty

NAME_RE = re.compile(r"[a-z0-9_]+")
VALUE_RE = re.compile(r"[a-z0-9_.]+")
LABEL_RE = re.compile(r"[0-9a-z_.]+")
PROPERTY_RE = re.compile(
    r"\s*(?P<namespace>[a-z0-9_]+)\s*::\s*(?P<feature>[a-z0-9_]+)\s*::\s*(?P<value>[a-z0-9_.]+)\s*"
)
NULL_LABEL = "null"
HASH_LABEL_LENGTH = 8


@dataclass(frozen=True, order=True)
class VariantProperty:
    """One `namespace :: feature :: value` triple."""

    namespace: str
    feature: str
    value: str

    def __post_init__(self) -> None:
        for part, pattern in (
            (self.namespace, NAME_RE),
            (self.feature, NAME_RE),
            (self.value, VALUE_RE),
        ):
            if not pattern.fullmatch(part):
                raise InvalidProperty(
                    f"invalid variant property {self.namespace!r} :: {self.feature!r} :: "
                    f"{self.value!r}: {part!r} must match {pattern.pattern}"
                )

    @classmethod
    def parse(cls, text: str) -> VariantProperty:
        match = PROPERTY_RE.fullmatch(text)
        if match is None:
            raise InvalidProperty(
                f"invalid variant property {text!r}: expected 'namespace :: feature :: value' "
                "with namespace and feature in [a-z0-9_] and value in [a-z0-9_.]"
            )
        return cls(match["namespace"], match["feature"], match["value"])

    @property
    def feature_key(self) -> tuple[str, str]:
        return (self.namespace, self.feature)

    def __str__(self) -> str:
        return f"{self.namespace} :: {self.feature} :: {self.value}"


def parse_property(text: str) -> VariantProperty:
    """Parse `ns :: feature :: value` (whitespace around `::` is not significant)."""
    return VariantProperty.parse(text)


@dataclass(frozen=True)
class VariantDescription:
    """The set of properties one variant declares; empty for the null variant."""

    properties: frozenset[VariantProperty] = frozenset()

    @classmethod
    def from_properties(cls, properties: Iterable[VariantProperty | str]) -> VariantDescription:
        return cls(
            frozenset(
                p if isinstance(p, VariantProperty) else parse_property(p) for p in properties
            )
        )

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Mapping[str, Iterable[str]]], *, where: str = "variant"
    ) -> VariantDescription:
        """Read the JSON shape `{namespace: {feature: [values]}}`."""
        if not isinstance(data, Mapping):
            raise InvalidProperty(f"{where}: expected an object of namespaces, got {data!r}")
        props: set[VariantProperty] = set()
        for namespace, features in data.items():
            if not isinstance(features, Mapping):
                raise InvalidProperty(
                    f"{where}: namespace {namespace!r} must map features to value lists"
                )
            for feature, values in features.items():
                if not isinstance(values, list) or not values:
                    raise InvalidProperty(
                        f"{where}: {namespace} :: {feature} must be a non-empty list of values"
                    )
                for value in values:
                    if not isinstance(value, str):
                        raise InvalidProperty(
                            f"{where}: {namespace} :: {feature} has a non-string value {value!r}"
                        )
                    try:
                        props.add(VariantProperty(namespace, feature, value))
                    except InvalidProperty as exc:
                        raise InvalidProperty(f"{where}: {exc}") from None
                if len(set(values)) != len(values):
                    raise InvalidProperty(
                        f"{where}: {namespace} :: {feature} lists a value twice "
                        f"({', '.join(values)}); each value may appear once"
                    )
        return cls(frozenset(props))

    @property
    def is_null(self) -> bool:
        return not self.properties

    @cached_property
    def features(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(namespace, feature) -> the values declared for it, sorted."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for prop in sorted(self.properties):
            grouped.setdefault(prop.feature_key, []).append(prop.value)
        return {key: tuple(values) for key, values in grouped.items()}

    @cached_property
    def namespaces(self) -> frozenset[str]:
        return frozenset(p.namespace for p in self.properties)

    def to_mapping(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        for (namespace, feature), values in self.features.items():
            out.setdefault(namespace, {})[feature] = list(values)
        return out

    def hash_label(self) -> str:
        return hash_label(self.properties)

    def __str__(self) -> str:
        return ", ".join(str(p) for p in sorted(self.properties)) or "(null variant)"


def hash_label(properties: Iterable[VariantProperty]) -> str:
    """variantlib's default label: sha256 over the sorted property lines, first 8 hex digits."""
    lines = sorted(f"{p}\n" for p in set(properties))
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:HASH_LABEL_LENGTH]


def validate_label(label: str) -> str:
    """Return `label` if it is a valid variant label, else raise `InvalidLabel`."""
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise InvalidLabel(f"invalid variant label {label!r}: must match [0-9a-z_.]+")
    return label
