"""The `[variant]` table of a `pyproject.toml`: a release's variants metadata and its builds.

Two published shapes are read, told apart by their keys:

- the PEP 817 shape: `default-priorities.namespace/feature/property`, providers with
  `requires`, `plugin-api`, `enable-if`, `install-time`, and a top-level `static-properties`;
- the providers-draft shape that variantlib 0.2.x reads: providers with `requires` |
  `static-properties` (+ `feature-order`) | `build-requires`, `optional`, `plugin-api`.

In both, `[variant.variants]` maps each label to build to its properties, in the shape of a
`variants.json` (`label = {namespace = {feature = [values]}}`; `null = {}` for the null variant).
The table is turned into that document and read by the same parser as a `variants.json`, so its
rules are the same. `parse_variant_table` does no I/O; `load_variant_table` reads the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from fitwheel.errors import InvalidVariantMetadata, InvalidVariantTable
from fitwheel.providers import BUILTIN_NAMESPACES
from fitwheel.variants.metadata import (
    SCHEMA_PEP817,
    SCHEMA_PROVIDERS,
    VariantsDocument,
    parse_variants_document,
)
from fitwheel.variants.properties import VariantDescription, parse_property


class TableShape(Enum):
    PEP817 = "pep817"
    PROVIDERS = "providers"


_TOP_KEYS = frozenset({"default-priorities", "providers", "variants", "static-properties"})
# Keys that only one shape has; a table with keys of both is refused (which rules apply?).
_PEP817_PROVIDER_KEYS = ("enable-if", "install-time")
_PROVIDERS_PROVIDER_KEYS = ("static-properties", "feature-order", "build-requires", "optional")


@dataclass(frozen=True)
class VariantTable:
    """A project's `[variant]` table: the release's metadata; `document.variants` are the
    variants to build, in the order the table lists them."""

    document: VariantsDocument
    shape: TableShape

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.document.variants)

    def description(self, label: str) -> VariantDescription:
        return self.document.variants[label]


def _shape(table: Mapping[str, Any], where: str) -> TableShape:
    pep817: list[str] = []
    providers: list[str] = []
    priorities = table.get("default-priorities")
    if isinstance(priorities, Mapping):
        pep817 += [f"default-priorities.{k}" for k in ("feature", "property") if k in priorities]
    if "static-properties" in table:
        pep817.append("static-properties")
    for namespace, entry in (table.get("providers") or {}).items():
        if isinstance(entry, Mapping):
            pep817 += [f"providers.{namespace}.{k}" for k in _PEP817_PROVIDER_KEYS if k in entry]
            providers += [
                f"providers.{namespace}.{k}" for k in _PROVIDERS_PROVIDER_KEYS if k in entry
            ]
    if pep817 and providers:
        raise InvalidVariantTable(
            f"{where}: mixes the PEP 817 shape ({pep817[0]}) with the providers-draft shape "
            f"({providers[0]}); write one of them"
        )
    return TableShape.PEP817 if pep817 else TableShape.PROVIDERS


def _priority_mapping(value: Any, depth: int, where: str, key: str) -> Any:
    """PEP 817 priorities as mappings; early variantlib wrote them as lists of
    `"ns :: feature"` / `"ns :: feature :: value"` strings, which are accepted too."""
    if not isinstance(value, list):
        return value
    out: dict[str, Any] = {}
    for item in value:
        parts = [p.strip() for p in item.split("::")] if isinstance(item, str) else []
        if len(parts) != depth:
            raise InvalidVariantTable(f"{where}: {key} has an invalid entry {item!r}")
        if depth == 2:
            out.setdefault(parts[0], []).append(parts[1])
        else:
            prop = parse_property(item)
            out.setdefault(prop.namespace, {}).setdefault(prop.feature, []).append(prop.value)
    return out


def variants_document_data(table: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """The `[variant]` table as the JSON object of a `variants.json` of its shape."""
    if not isinstance(table, Mapping):
        raise InvalidVariantTable(f"{where}: [variant] must be a table")
    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise InvalidVariantTable(
            f"{where}: unknown key {unknown[0]!r} (a [variant] table has "
            f"{', '.join(sorted(_TOP_KEYS))})"
        )
    shape = _shape(table, where)
    data: dict[str, Any] = {
        "$schema": SCHEMA_PEP817 if shape is TableShape.PEP817 else SCHEMA_PROVIDERS,
        **table,
    }
    data.setdefault("variants", {})
    priorities = data.get("default-priorities")
    if shape is TableShape.PEP817 and isinstance(priorities, Mapping):
        data["default-priorities"] = {
            **priorities,
            **{
                key: _priority_mapping(priorities[key], depth, where, f"default-priorities.{key}")
                for key, depth in (("feature", 2), ("property", 3))
                if key in priorities
            },
        }
    return data


def parse_variant_table(pyproject: Mapping[str, Any], *, where: str) -> VariantTable:
    """Read and validate the `[variant]` table of a decoded `pyproject.toml`."""
    table = pyproject.get("variant")
    if table is None:
        raise InvalidVariantTable(
            f"{where}: no [variant] table; declare the variants to build under "
            "[variant.variants], or build one without it: -p PROPERTY ... [--label L], or "
            "--null --namespace-priority NS"
        )
    data = variants_document_data(table, where=f"{where} [variant]")
    try:
        document = parse_variants_document(data, where=f"{where} [variant]")
    except InvalidVariantMetadata as exc:
        raise InvalidVariantTable(str(exc)) from None
    _check_collisions(document, where)
    _check_namespaces(document, where)
    return VariantTable(document, _shape(table, where))


def _check_collisions(document: VariantsDocument, where: str) -> None:
    seen: dict[VariantDescription, str] = {}
    for label, description in document.variants.items():
        other = seen.setdefault(description, label)
        if other != label:
            raise InvalidVariantTable(
                f"{where}: variants {other!r} and {label!r} declare the same properties "
                f"({description}): one build would be published under two labels"
            )


def _check_namespaces(document: VariantsDocument, where: str) -> None:
    """Every namespace needs something that reports it on an installing machine."""
    for namespace in document.namespace_priorities:
        if (
            namespace in document.providers
            or namespace in document.static_properties
            or namespace in BUILTIN_NAMESPACES
        ):
            continue
        users = [label for label, d in document.variants.items() if namespace in d.namespaces]
        subject = f"variant {users[0]!r} uses namespace" if users else "namespace"
        raise InvalidVariantTable(
            f"{where}: {subject} {namespace!r}, which no installer knows: declare "
            f"[variant.providers.{namespace}] with requires (a provider plugin) or "
            "static-properties (when it describes the build, not the machine)"
        )


def _read_pyproject(path: Path) -> tuple[Path, dict[str, Any]]:
    if path.is_dir():
        path = path / "pyproject.toml"
    try:
        return path, tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidVariantTable(f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidVariantTable(f"{path}: not valid TOML: {exc}") from None


def load_variant_table(path: str | Path) -> VariantTable:
    """Read `pyproject.toml` (or a project folder holding one) and parse its `[variant]` table."""
    path, data = _read_pyproject(Path(path))
    return parse_variant_table(data, where=str(path))


def load_optional_variant_table(path: str | Path) -> VariantTable | None:
    """`load_variant_table`, or None for a project without a `[variant]` table (or without a
    pyproject.toml at all); a table that is there must be valid."""
    path = Path(path)
    if not (path / "pyproject.toml" if path.is_dir() else path).is_file():
        return None
    path, data = _read_pyproject(path)
    return parse_variant_table(data, where=str(path)) if "variant" in data else None
