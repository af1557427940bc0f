"""Variant properties (`namespace :: feature :: value`), variant descriptions and labels."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

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


FeatureTable = Mapping[tuple[str, str], tuple[str, ...]]
"""(namespace, feature) -> the values a variant declares for it, sorted, each once."""


class DeclaredFeature:
    """One feature a variant declares, with its values (sorted, each once).

    Shared by every label of a document that declares the same values, and hashed by
    identity, so ordering computes each one's best supported value once per release.
    """

    __slots__ = ("key", "values")

    def __init__(self, key: tuple[str, str], values: tuple[str, ...]) -> None:
        self.key = key
        self.values = values

    def __repr__(self) -> str:
        return f"DeclaredFeature({self.key!r}, {self.values!r})"


class VariantDescription:
    """The set of properties one variant declares; empty for the null variant.

    Held as its declared features, which is what ordering reads; the feature table and the
    `VariantProperty` set are built on first use. Immutable (`declared` is read-only); equal
    when the property sets are.
    """

    __slots__ = ("__dict__", "declared")
    declared: tuple[DeclaredFeature, ...]
    """The declared features, in the document's order (read-only)."""

    def __init__(self, properties: Iterable[VariantProperty] = frozenset()) -> None:
        grouped: dict[tuple[str, str], set[str]] = {}
        for prop in properties:
            grouped.setdefault(prop.feature_key, set()).add(prop.value)
        self.declared = tuple(
            DeclaredFeature(key, tuple(sorted(values))) for key, values in sorted(grouped.items())
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VariantDescription):
            return NotImplemented
        return self.features == other.features

    def __hash__(self) -> int:
        return hash(frozenset(self.features.items()))

    def __repr__(self) -> str:
        return f"VariantDescription({str(self)!r})"

    @classmethod
    def from_properties(cls, properties: Iterable[VariantProperty | str]) -> VariantDescription:
        return cls(p if isinstance(p, VariantProperty) else parse_property(p) for p in properties)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Mapping[str, Iterable[str]]], *, where: str = "variant"
    ) -> VariantDescription:
        """Read the JSON shape `{namespace: {feature: [values]}}`."""
        return descriptions_from_mapping({"": data}, where=where, label_in_errors=False)[""]

    @cached_property
    def features(self) -> FeatureTable:
        """(namespace, feature) -> the values declared for it, sorted, in feature order."""
        return {entry.key: entry.values for entry in sorted(self.declared, key=lambda e: e.key)}

    @property
    def is_null(self) -> bool:
        return not self.declared

    @cached_property
    def properties(self) -> frozenset[VariantProperty]:
        return frozenset(
            VariantProperty(namespace, feature, value)
            for (namespace, feature), values in self.features.items()
            for value in values
        )

    @cached_property
    def namespaces(self) -> frozenset[str]:
        return frozenset(entry.key[0] for entry in self.declared)

    def to_mapping(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        for (namespace, feature), values in self.features.items():
            out.setdefault(namespace, {})[feature] = list(values)
        return out

    def hash_label(self) -> str:
        return hash_label(self.properties)

    def __str__(self) -> str:
        return ", ".join(str(p) for p in sorted(self.properties)) or "(null variant)"


def descriptions_from_mapping(
    variants: Mapping[str, Any], *, where: str, label_in_errors: bool = True
) -> dict[str, VariantDescription]:
    """Read a document's `variants` object: label -> `{namespace: {feature: [values]}}`.

    The hot path of a large release, so one loop for all labels: each distinct (namespace,
    feature, values) is checked, sorted and stored once (`DeclaredFeature`), and every label
    that declares it shares it. Errors name `where` and the label.
    """
    # namespace -> feature -> the value (one value) or the tuple of values -> entry: nested
    # dicts of the document's own strings, so a label allocates no lookup key.
    seen: dict[Any, dict[Any, dict[Any, DeclaredFeature]]] = {}
    new = VariantDescription.__new__
    out: dict[str, VariantDescription] = {}
    for label, data in variants.items():
        # `type(...) is dict` first: the ABC check costs more than the rest of a small label.
        if type(data) is not dict and not isinstance(data, Mapping):
            raise InvalidProperty(
                f"{_context(where, label, label_in_errors)}: expected an object of namespaces, "
                f"got {_short(data)}"
            )
        declared = []
        for namespace, features in data.items():
            if type(features) is not dict and not isinstance(features, Mapping):
                raise InvalidProperty(
                    f"{_context(where, label, label_in_errors)}: namespace {_short(namespace)} "
                    "must map features to value lists"
                )
            by_feature = seen.get(namespace)
            if by_feature is None:
                by_feature = seen[namespace] = {}
            for feature, values in features.items():
                by_values = by_feature.get(feature)
                if by_values is None:
                    by_values = by_feature[feature] = {}
                try:
                    probe = (
                        values[0] if type(values) is list and len(values) == 1 else tuple(values)
                    )
                    entry = by_values.get(probe)
                except TypeError:  # not a list, or unhashable items: the slow path says which
                    probe, entry = None, None
                if entry is None:
                    entry = DeclaredFeature(
                        (namespace, feature),
                        _checked_values(
                            namespace, feature, values, _context(where, label, label_in_errors)
                        ),
                    )
                    if probe is not None:
                        by_values[probe] = entry
                declared.append(entry)
        description = new(VariantDescription)
        description.declared = tuple(declared)
        out[label] = description
    return out


def _context(where: str, label: object, label_in_errors: bool) -> str:
    # Formatted only when needed: a large release has thousands of labels.
    return f"{where}: variant {_short(label)}" if label_in_errors else where


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _checked_values(
    namespace: object, feature: object, values: object, where: str
) -> tuple[str, ...]:
    """A feature's values, checked (names, values, non-empty, each once) and sorted."""
    if not isinstance(namespace, str) or not NAME_RE.fullmatch(namespace):
        raise InvalidProperty(
            f"{where}: invalid namespace {_short(namespace)}: must match {NAME_RE.pattern}"
        )
    if not isinstance(feature, str) or not NAME_RE.fullmatch(feature):
        raise InvalidProperty(
            f"{where}: invalid feature {namespace} :: {_short(feature)}: must match {NAME_RE.pattern}"
        )
    if not isinstance(values, list) or not values:
        raise InvalidProperty(
            f"{where}: {namespace} :: {feature} must be a non-empty list of values"
        )
    for value in values:
        if not isinstance(value, str):
            raise InvalidProperty(
                f"{where}: {namespace} :: {feature} has a non-string value {_short(value)}"
            )
        if not VALUE_RE.fullmatch(value):
            raise InvalidProperty(
                f"{where}: invalid variant property {namespace} :: {feature} :: {_short(value)}: "
                f"the value must match {VALUE_RE.pattern}"
            )
    if len(set(values)) != len(values):
        raise InvalidProperty(
            f"{where}: {namespace} :: {feature} lists a value twice ({', '.join(values)}); each "
            "value may appear once"
        )
    return tuple(sorted(values))


def hash_label(properties: Iterable[VariantProperty]) -> str:
    """variantlib's default label: sha256 over the sorted property lines, first 8 hex digits."""
    lines = sorted(f"{p}\n" for p in set(properties))
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:HASH_LABEL_LENGTH]


def validate_label(label: str) -> str:
    """Return `label` if it is a valid variant label, else raise `InvalidLabel`."""
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise InvalidLabel(f"invalid variant label {label!r}: must match [0-9a-z_.]+")
    return label
