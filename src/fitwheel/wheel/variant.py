"""Turning a wheel into a variant wheel and back, and reading a wheel's variant data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fitwheel.errors import InvalidVariantMetadata, InvalidWheel
from fitwheel.variants.filename import VariantWheelFilename, parse_variant_wheel_filename
from fitwheel.variants.metadata import (
    SCHEMA_PEP825,
    SCHEMA_PROVIDERS,
    ProviderInfo,
    VariantsDocument,
    document_to_json,
    dumps_variants_document,
    loads_variants_document,
)
from fitwheel.variants.properties import (
    NULL_LABEL,
    VariantDescription,
    VariantProperty,
    validate_label,
)
from fitwheel.wheel.archive import VARIANT_JSON, open_wheel, rewrite_wheel


@dataclass(frozen=True)
class WheelVariant:
    """A wheel's filename and, for a variant wheel, its `variant.json`."""

    filename: VariantWheelFilename
    document: VariantsDocument | None

    @property
    def label(self) -> str | None:
        return self.filename.label

    @property
    def description(self) -> VariantDescription | None:
        if self.document is None or self.label is None:
            return None
        return self.document.variants[self.label]


def read_wheel_variant(path: str | Path) -> WheelVariant:
    """Read a wheel's variant data and check it against its filename."""
    path = Path(path)
    archive = open_wheel(path)
    return wheel_variant(path, archive.read_dist_info(VARIANT_JSON), archive.dist_info)


def wheel_variant(path: Path, raw: bytes | None, dist_info: str) -> WheelVariant:
    """A wheel's variant data from its `variant.json` bytes (None: the wheel has none), already
    read from the archive, checked against its filename."""
    name = parse_variant_wheel_filename(path.name)
    member = f"{dist_info}/{VARIANT_JSON}"
    if raw is None:
        if name.label is not None:
            raise InvalidWheel(
                f"{path}: the filename has variant label {name.label!r} but the wheel has no "
                f"{member}"
            )
        return WheelVariant(name, None)
    document = loads_variants_document(raw, where=f"{path.name}:{member}")
    label = document.single_label
    if name.label is None:
        raise InvalidWheel(
            f"{path}: the wheel carries variant.json (label {label!r}) but its filename has no label"
        )
    if label != name.label:
        raise InvalidWheel(
            f"{path}: variant.json says label {label!r} but the filename says {name.label!r}"
        )
    return WheelVariant(name, document)


def default_providers(namespaces: Sequence[str]) -> dict[str, ProviderInfo]:
    """The provider identities installers recognise, for the namespaces that have one."""
    from fitwheel.variants.known_providers import KNOWN_PROVIDERS

    providers = {}
    for namespace in namespaces:
        known = KNOWN_PROVIDERS.get(namespace)
        if known is not None:
            providers[namespace] = ProviderInfo(
                requires=known.requires, plugin_api=known.plugin_api
            )
    return providers


def static_tables(properties: Sequence[VariantProperty]) -> dict[str, dict[str, tuple[str, ...]]]:
    """`--static-property` values as `{namespace: {feature: values}}`, in the order given.

    A namespace with a known provider (`nvidia`, `x86_64`, ...) describes the machine, so it
    cannot be static: every machine would then accept every listed value.
    """
    from fitwheel.variants.known_providers import KNOWN_PROVIDERS

    tables: dict[str, dict[str, tuple[str, ...]]] = {}
    for prop in properties:
        if prop.namespace in KNOWN_PROVIDERS:
            raise InvalidVariantMetadata(
                f"--static-property {prop}: namespace {prop.namespace!r} describes the machine "
                "and has a provider that reports what the machine supports; static properties "
                "would make every machine accept them. Give it with -p/--property only"
            )
        features = tables.setdefault(prop.namespace, {})
        values = features.get(prop.feature, ())
        if prop.value not in values:
            features[prop.feature] = (*values, prop.value)
    return tables


def variant_document(
    description: VariantDescription,
    label: str,
    *,
    namespace_priorities: Sequence[str] | None = None,
    providers: Mapping[str, ProviderInfo] | None = None,
    static_properties: Sequence[VariantProperty] = (),
) -> VariantsDocument:
    """The `variant.json` document of one variant wheel.

    `static_properties` are the supported values of namespaces that describe the build rather
    than the machine (best first); they are written as those namespaces' `static-properties`.
    """
    static = static_tables(static_properties)
    for prop in sorted(description.properties):
        if prop.namespace in static and prop.value not in static[prop.namespace].get(
            prop.feature, ()
        ):
            raise InvalidVariantMetadata(
                f"property {prop} is in namespace {prop.namespace!r}, which has static "
                f"properties, but is not one of them: no installer would ever choose this "
                f"wheel. Add --static-property '{prop}'"
            )
    used = sorted(description.namespaces | set(static))
    priorities = tuple(namespace_priorities) if namespace_priorities else tuple(used)
    missing = set(used) - set(priorities)
    if missing:
        raise InvalidVariantMetadata(
            f"--namespace-priority must list every namespace used; missing {', '.join(sorted(missing))}"
        )
    chosen = dict(providers) if providers is not None else default_providers(priorities)
    for namespace, features in static.items():
        # uv rejects two or more static features without an order; the given order is it.
        chosen[namespace] = ProviderInfo(feature_order=tuple(features) if len(features) > 1 else ())
    # The providers-draft schema needs a provider for every namespace; without one, write
    # plain PEP 825 (which `fitwheel variants check` will flag for installers that need it).
    schema = SCHEMA_PROVIDERS if priorities and set(priorities) <= set(chosen) else SCHEMA_PEP825
    if static and schema != SCHEMA_PROVIDERS:
        lacking = sorted(set(priorities) - set(chosen))
        raise InvalidVariantMetadata(
            f"static properties need the providers schema ({SCHEMA_PROVIDERS}), which needs a "
            f"provider for every namespace; none is known for {', '.join(lacking)}"
        )
    return VariantsDocument(
        namespace_priorities=priorities,
        variants=MappingProxyType({label: description}),
        schema=schema,
        providers=MappingProxyType({ns: chosen[ns] for ns in priorities if ns in chosen}),
        static_properties=MappingProxyType(
            {ns: MappingProxyType(static[ns]) for ns in priorities if ns in static}
        ),
    ).validate(where="new variant.json")


def make_variant(
    wheel: str | Path,
    outdir: str | Path,
    properties: Sequence[VariantProperty],
    *,
    label: str | None = None,
    null: bool = False,
    namespace_priorities: Sequence[str] | None = None,
    providers: Mapping[str, ProviderInfo] | None = None,
    static_properties: Sequence[VariantProperty] = (),
) -> Path:
    """Write `{base}-{label}.whl` into `outdir`: the wheel plus `variant.json`, RECORD rewritten.

    `static_properties`: see `variant_document`; give every wheel of a release the same list.
    """
    wheel = Path(wheel)
    name = parse_variant_wheel_filename(wheel.name)
    if name.label is not None:
        raise InvalidWheel(
            f"{wheel}: already a variant wheel (label {name.label!r}); run `fitwheel wheel unmake` first"
        )
    if null and properties:
        raise InvalidVariantMetadata("--null makes the null variant: give no -p/--property with it")
    if not null and not properties:
        raise InvalidVariantMetadata(
            "give at least one -p/--property, or --null for the null variant"
        )
    if null and not namespace_priorities:
        raise InvalidVariantMetadata(
            "the null variant's variant.json must list the release's namespaces (installers "
            "such as uv refuse an empty list): pass --namespace-priority NS,NS,..."
        )
    description = VariantDescription(frozenset(properties))
    if null:
        if label not in (None, NULL_LABEL):
            raise InvalidVariantMetadata(f"the null variant's label is 'null', not {label!r}")
        label = NULL_LABEL
    elif label is None:
        label = description.hash_label()
    else:
        validate_label(label)
        if label == NULL_LABEL:
            raise InvalidVariantMetadata("label 'null' is reserved for the null variant (--null)")
    archive = open_wheel(wheel)
    document = variant_document(
        description,
        label,
        namespace_priorities=namespace_priorities,
        providers=providers,
        static_properties=static_properties,
    )
    data = dumps_variants_document(document).encode()
    destination = Path(outdir) / name.with_label(label)
    return rewrite_wheel(archive, destination, add={archive.member_path(VARIANT_JSON): data})


def unmake_variant(wheel: str | Path, outdir: str | Path) -> Path:
    """Write the plain wheel: `variant.json` removed, label dropped from the name."""
    wheel = Path(wheel)
    variant = read_wheel_variant(wheel)
    if variant.document is None:
        raise InvalidWheel(f"{wheel}: not a variant wheel (no variant.json, no label)")
    archive = open_wheel(wheel)
    destination = Path(outdir) / variant.filename.base_filename
    return rewrite_wheel(archive, destination, drop={archive.member_path(VARIANT_JSON)})


def inspect_wheel(wheel: str | Path) -> dict[str, Any]:
    """A JSON-ready description of a wheel and its variant data."""
    variant = read_wheel_variant(wheel)
    name = variant.filename
    info: dict[str, Any] = {
        "filename": name.filename,
        "name": str(name.name),
        "version": str(name.version),
        "build": "".join(str(p) for p in name.build) or None,
        "tags": sorted(str(t) for t in name.tags),
        "label": name.label,
        "variant": None,
    }
    if variant.document is not None and variant.description is not None:
        info["variant"] = {
            "properties": [str(p) for p in sorted(variant.description.properties)],
            "hash_label": variant.description.hash_label(),
            "metadata": document_to_json(variant.document),
        }
    return info
