"""Environment markers with the four PEP 825 variant markers beside the PEP 508 ones.

`packaging.markers` rejects `variant_*` names, so the expression is parsed here; each
standard comparison is still evaluated by `packaging`, so its semantics are packaging's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fitwheel.errors import InvalidMarker, InvalidProperty
from fitwheel.variants.properties import PROPERTY_RE, VariantDescription, VariantProperty
from fitwheel.variants.support import SupportedProperties

VARIANT_MARKERS = frozenset(
    {"variant_label", "variant_namespaces", "variant_features", "variant_properties"}
)
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b) |
        (?P<bool>and\b|or\b) |
        (?P<string>'[^']*'|"[^"]*") |
        (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_FEATURE_RE = re.compile(r"\s*([a-z0-9_]+)\s*::\s*([a-z0-9_]+)\s*")


@dataclass(frozen=True)
class VariantContext:
    """The selected wheel's variant facts, already filtered to what the target supports."""

    label: str = ""
    properties: frozenset[VariantProperty] = field(default_factory=frozenset)

    @classmethod
    def for_wheel(
        cls, label: str | None, description: VariantDescription, supported: SupportedProperties
    ) -> VariantContext:
        """Context for a chosen wheel: its properties that the target supports."""
        kept = frozenset(
            p for p in description.properties if p.value in supported.values(p.namespace, p.feature)
        )
        return cls(label or "", kept)

    def value_of(self, name: str) -> str | frozenset[str]:
        if name == "variant_label":
            return self.label
        if name == "variant_namespaces":
            return frozenset(p.namespace for p in self.properties)
        if name == "variant_features":
            return frozenset(f"{p.namespace} :: {p.feature}" for p in self.properties)
        return frozenset(str(p) for p in self.properties)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(marker: str) -> list[_Token]:
    tokens = []
    pos = 0
    stripped = marker.rstrip()
    while pos < len(stripped):
        match = _TOKEN_RE.match(stripped, pos)
        if match is None or match.end() == pos:
            raise InvalidMarker(f"invalid marker {marker!r}: unexpected text at {stripped[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append(_Token(kind, match[kind]))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(
        self, marker: str, environment: Mapping[str, str], variant: VariantContext | None
    ) -> None:
        self.marker = marker
        self.tokens = _tokenize(marker)
        self.pos = 0
        self.environment = environment
        self.variant = variant or VariantContext()

    def error(self, message: str) -> InvalidMarker:
        return InvalidMarker(f"invalid marker {self.marker!r}: {message}")

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            found = "the end" if token is None else repr(token.text)
            raise self.error(f"expected {kind}, found {found}")
        self.pos += 1
        return token

    def parse(self) -> bool:
        if not self.tokens:
            raise self.error("empty marker")
        result = self.parse_or()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return result

    def parse_or(self) -> bool:
        result = self.parse_and()
        while (token := self.peek()) is not None and token.text == "or":
            self.pos += 1
            right = self.parse_and()
            result = result or right
        return result

    def parse_and(self) -> bool:
        result = self.parse_expr()
        while (token := self.peek()) is not None and token.text == "and":
            self.pos += 1
            right = self.parse_expr()
            result = result and right
        return result

    def parse_expr(self) -> bool:
        token = self.peek()
        if token is not None and token.kind == "lparen":
            self.pos += 1
            result = self.parse_or()
            self.take("rparen")
            return result
        left = self.parse_var()
        op = " ".join(self.take("op").text.split())
        right = self.parse_var()
        return self.compare(left, op, right)

    def parse_var(self) -> _Token:
        token = self.peek()
        if token is None or token.kind not in ("string", "name"):
            found = "the end" if token is None else repr(token.text)
            raise self.error(f"expected a marker name or a quoted string, found {found}")
        self.pos += 1
        return token

    def compare(self, left: _Token, op: str, right: _Token) -> bool:
        names = {t.text for t in (left, right) if t.kind == "name"}
        variant_names = names & VARIANT_MARKERS
        if not variant_names:
            return self.standard(left, op, right)
        if len(names) != 1 or left.kind == right.kind:
            raise self.error("a variant marker must be compared with a quoted string")
        name = variant_names.pop()
        literal = (left if left.kind == "string" else right).text[1:-1]
        value = self.variant.value_of(name)
        if name == "variant_label":
            if op in ("==", "!="):
                return (value == literal) == (op == "==")
            if op in ("in", "not in") and left.kind == "string":
                return (literal in value) == (op == "in")
            raise self.error(f"variant_label supports ==, != and 'in', not {op!r}")
        if op not in ("in", "not in") or right.kind != "name":
            raise self.error(f"use '\"...\" in {name}' or 'not in' with {name}")
        item = self.normalise(name, literal)
        return (item in value) == (op == "in")

    def normalise(self, name: str, literal: str) -> str:
        if name == "variant_properties":
            match = PROPERTY_RE.fullmatch(literal)
            if match is None:
                raise self.error(f"{literal!r} is not 'namespace :: feature :: value'")
            try:
                return str(VariantProperty(match["namespace"], match["feature"], match["value"]))
            except InvalidProperty as exc:
                raise self.error(str(exc)) from None
        if name == "variant_features":
            match = _FEATURE_RE.fullmatch(literal)
            if match is None:
                raise self.error(f"{literal!r} is not 'namespace :: feature'")
            return f"{match[1]} :: {match[2]}"
        return literal.strip()

    def standard(self, left: _Token, op: str, right: _Token) -> bool:
        from packaging.markers import InvalidMarker as PackagingInvalidMarker
        from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName

        text = f"{left.text} {op} {right.text}"
        try:
            return Marker(text).evaluate(dict(self.environment))
        except (PackagingInvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
            raise self.error(f"{text!r}: {exc}") from None


def evaluate_marker(
    marker: str,
    *,
    environment: Mapping[str, str],
    variant: VariantContext | None = None,
) -> bool:
    """Evaluate `marker`; standard names come from `environment` (the target's, e.g.
    `Interpreter.marker_environment`): this module never looks at the running interpreter."""
    return _Parser(marker, {"extra": "", **environment}, variant).parse()


def split_requirement(specifier: str) -> tuple[str, str | None]:
    """Split a PEP 508 dependency specifier into (requirement, marker or None)."""
    separator = " ;" if "@" in specifier.split(";", 1)[0] else ";"
    if separator not in specifier:
        return specifier.strip(), None
    requirement, marker = specifier.split(separator, 1)
    return requirement.strip(), marker.strip() or None


def requirement_applies(
    specifier: str,
    *,
    environment: Mapping[str, str],
    variant: VariantContext | None = None,
) -> bool:
    """Whether a dependency specifier's marker (if any) holds for this target and wheel."""
    _, marker = split_requirement(specifier)
    return marker is None or evaluate_marker(marker, environment=environment, variant=variant)


def applicable_requirements(
    specifiers: Iterable[str],
    *,
    environment: Mapping[str, str],
    variant: VariantContext | None = None,
) -> list[str]:
    return [
        split_requirement(s)[0]
        for s in specifiers
        if requirement_applies(s, environment=environment, variant=variant)
    ]
