"""Which variants to build, with which flags, and the metadata every wheel of the release carries.

Pure: a `VariantTable` (or properties from the command line) in, a `BuildPlan` out. Every
problem a build would hit late (an unknown label, properties without compiler flags, a provider
fitwheel cannot write) is found here, before anything is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from fitwheel.build_flags import BuildFlags, build_flags
from fitwheel.errors import FitwheelError, InvalidVariantTable, UnknownBuildProperty
from fitwheel.publish.table import VariantTable
from fitwheel.variants.known_providers import KNOWN_PROVIDERS, provider_project
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import ProviderInfo, VariantsDocument
from fitwheel.variants.properties import (
    NULL_LABEL,
    VariantDescription,
    VariantProperty,
    validate_label,
)
from fitwheel.wheel.variant import default_providers, variant_document


@dataclass(frozen=True)
class VariantBuild:
    """One wheel to build: its label, its properties and the compiler flags they need."""

    label: str
    description: VariantDescription
    flags: BuildFlags

    @property
    def is_null(self) -> bool:
        return self.label == NULL_LABEL


@dataclass(frozen=True)
class BuildPlan:
    """The builds, and what `make_variant` writes into each wheel (the same for all)."""

    builds: tuple[VariantBuild, ...]
    namespace_priorities: tuple[str, ...] | None = None
    providers: Mapping[str, ProviderInfo] | None = None
    static_properties: tuple[VariantProperty, ...] = ()
    flagless_namespaces: frozenset[str] = field(default_factory=frozenset)

    def release_document(self) -> VariantsDocument:
        """The `variants.json` these builds make together (what `variants check` reads); a
        variant whose `variant.json` cannot be written is an error naming it."""
        if not self.builds:
            raise InvalidVariantTable("no variant to build")
        merged: VariantsDocument | None = None
        for build in self.builds:
            try:
                document = variant_document(
                    build.description,
                    build.label,
                    namespace_priorities=self.namespace_priorities,
                    providers=self.providers,
                    static_properties=self.static_properties,
                )
                merged = document if merged is None else merge_documents(merged, document)
            except FitwheelError as exc:
                raise InvalidVariantTable(f"variant {build.label!r}: {exc}") from None
        assert merged is not None
        return merged


def _flags(label: str, description: VariantDescription, flagless: frozenset[str]) -> BuildFlags:
    try:
        return build_flags(p for p in description.properties if p.namespace not in flagless)
    except UnknownBuildProperty as exc:
        raise UnknownBuildProperty(f"variant {label!r}: {exc}") from None


def _providers(document: VariantsDocument, where: str) -> tuple[dict[str, ProviderInfo], set[str]]:
    """The provider entries to write, and the namespaces a third-party plugin serves.

    A namespace whose provider project is a known one (any version, plugin-api or former
    name, or no entry at all) gets the identity uv and variantlib run as a built-in; an
    entry naming another plugin is kept, and its properties get no compiler flags from us.
    """
    providers: dict[str, ProviderInfo] = {}
    plugins: set[str] = set()
    for namespace in document.namespace_priorities:
        if namespace in document.static_properties:
            continue
        entry = document.providers.get(namespace)
        if entry is not None and (entry.build_requires or not entry.install_time):
            key = "build-requires" if entry.build_requires else "install-time = false"
            raise InvalidVariantTable(
                f"{where}: providers.{namespace} has {key} (a plugin run at build time); "
                "fitwheel runs no plugins: write the values it would give as static "
                "properties of the namespace"
            )
        owner = None if entry is None else provider_project(entry.requires, entry.plugin_api)
        if entry is not None and entry.requires and owner != namespace:
            providers[namespace] = ProviderInfo(
                requires=entry.requires, plugin_api=entry.plugin_api, optional=entry.optional
            )
            plugins.add(namespace)
        elif namespace in KNOWN_PROVIDERS:
            providers.update(default_providers([namespace]))
    return providers, plugins


def plan_from_table(
    table: VariantTable,
    *,
    labels: Sequence[str] = (),
    null: bool = False,
    where: str = "pyproject.toml",
) -> BuildPlan:
    """The builds of `labels` (every declared variant when empty and not `null`), plus the null
    variant when `null` is set, declared or not."""
    document = table.document
    for label in labels:
        if label not in document.variants:
            declared = ", ".join(document.variants) or "none"
            raise InvalidVariantTable(
                f"{where}: no variant {label!r} in [variant.variants] (declared: {declared})"
            )
    chosen = list(dict.fromkeys(labels)) or ([] if null else list(document.variants))
    if null and NULL_LABEL not in chosen:
        chosen.append(NULL_LABEL)
    if not chosen:
        raise InvalidVariantTable(f"{where}: [variant.variants] declares no variant to build")
    release = _release_metadata(table, where)
    builds = tuple(
        VariantBuild(
            label,
            description := document.variants.get(label, VariantDescription()),
            _flags(label, description, release.flagless_namespaces),
        )
        for label in chosen
    )
    return replace(release, builds=builds)


def _release_metadata(table: VariantTable, where: str) -> BuildPlan:
    """A plan without builds: what every wheel of the table's release carries."""
    document = table.document
    providers, plugins = _providers(document, where)
    static = tuple(
        VariantProperty(namespace, feature, value)
        for namespace, features in document.static_properties.items()
        for feature, values in features.items()
        for value in values
    )
    return BuildPlan(
        (),
        namespace_priorities=document.namespace_priorities,
        providers=MappingProxyType(providers),
        static_properties=static,
        flagless_namespaces=frozenset(document.static_properties) | frozenset(plugins),
    )


def plan_from_properties(
    properties: Sequence[VariantProperty],
    *,
    label: str | None = None,
    null: bool = False,
    namespace_priorities: Sequence[str] = (),
    table: VariantTable | None = None,
    where: str = "pyproject.toml",
) -> BuildPlan:
    """One build given on the command line: `-p PROPERTY ... [--label L]`, or `--null` with the
    release's namespaces. When the project has a `table`, the wheel carries its release
    metadata (priorities, providers, static properties) like the declared variants do, and
    `namespace_priorities` may be left out."""
    release = BuildPlan(()) if table is None else _release_metadata(table, where)
    if not namespace_priorities and release.namespace_priorities:
        namespace_priorities = release.namespace_priorities
    description = VariantDescription(frozenset(properties))
    if null:
        if properties:
            raise InvalidVariantTable("--null builds the null variant: give no -p with it")
        if not namespace_priorities:
            raise InvalidVariantTable(
                "the null variant must name the release's namespaces: --namespace-priority NS"
            )
        label = NULL_LABEL
    elif not properties:
        raise InvalidVariantTable(
            "give -p PROPERTY ... (or --null) to build one variant, or --all / --variant LABEL "
            "to build from the [variant] table"
        )
    elif label is None:
        label = description.hash_label()
    else:
        validate_label(label)
        if label == NULL_LABEL:
            raise InvalidVariantTable("label 'null' is reserved for the null variant (--null)")
    build = VariantBuild(
        label, description, _flags(label, description, release.flagless_namespaces)
    )
    return replace(
        release, builds=(build,), namespace_priorities=tuple(namespace_priorities) or None
    )
