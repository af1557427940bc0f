"""Provider identities that installers run as built-ins (uv 0.13.9), keyed by namespace.

uv runs its built-in provider for a namespace only when the release's provider table names it
exactly: the namespace, one requirement on the provider package (version specifiers allowed; no
extras, no marker) and the effective `plugin-api` (the given one, or the requirement's name with
`-` replaced by `_`). Anything else, and a namespace with no provider table at all, makes uv treat
that namespace's properties as unsupported without a warning. The facts and the commands that
showed them are in `docs/uv-interop.md`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from packaging.utils import canonicalize_name

_REQUIREMENT_RE = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?P<rest>[^;\[]*)\s*"
)
_PROJECT_RE = re.compile(r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_SPECIFIERS_RE = re.compile(r"(?:\s*(?:~=|===|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*,?)*\s*")


@dataclass(frozen=True)
class KnownProvider:
    """What a variants document must say for installers to use their built-in provider."""

    namespace: str
    requires: tuple[str, ...]
    """The `requires` list writers emit (exactly one requirement)."""
    plugin_api: str
    """The `plugin-api` writers emit; uv compares the effective value with this."""
    features: tuple[str, ...]
    """Features uv's built-in provider reports, in uv's feature order."""
    overrides: tuple[str, ...] = ()
    """Environment variables uv's built-in provider reads instead of probing."""
    former_names: tuple[str, ...] = ()
    """Earlier names of the same provider project seen in published files (same vocabulary;
    uv does not recognise them, fitwheel's built-in serves them)."""

    def provider_table(self) -> dict[str, object]:
        """The `providers.<namespace>` entry for a v0.2.0 (or PEP 825 + providers) document."""
        return {"requires": list(self.requires), "plugin-api": self.plugin_api}


KNOWN_PROVIDERS: Mapping[str, KnownProvider] = MappingProxyType(
    {
        provider.namespace: provider
        for provider in (
            KnownProvider(
                namespace="nvidia",
                requires=("nvidia-variant-provider",),
                plugin_api="nvidia_variant_provider.plugin:NvidiaVariantPlugin",
                features=("cuda_version_lower_bound", "cuda_version_upper_bound", "sm_arch"),
                overrides=(
                    "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION",
                    "NV_VARIANT_PROVIDER_FORCE_SM_ARCH",
                ),
            ),
            KnownProvider(
                namespace="x86_64",
                requires=("x86-64-variant-provider",),
                plugin_api="x86_64_variant_provider",
                features=("level",),
                former_names=("provider-variant-x86-64",),
            ),
            KnownProvider(
                namespace="aarch64",
                requires=("aarch64-variant-provider",),
                plugin_api="aarch64_variant_provider",
                features=(),
                former_names=("provider-variant-aarch64",),
            ),
            KnownProvider(
                namespace="tpu",
                requires=("tpu-variant-provider",),
                plugin_api="tpu_variant_provider.plugin:TpuVariantPlugin",
                features=("present",),
                overrides=("TPU_VARIANT_PROVIDER_FORCE_PRESENT",),
            ),
        )
    }
)

MACHINE_NAMESPACES: tuple[str, ...] = ("x86_64", "aarch64", "nvidia", "amd", "intel", "tpu")
"""Namespaces that describe the machine: a provider reports what the target supports, so a
variants document can never make them static (every machine would accept every value)."""


def requirement_name(requirement: str) -> str | None:
    """The normalised name of a requirement that has only version specifiers, else None.

    A requirement with extras or an environment marker is not one uv maps to a built-in.
    """
    match = _REQUIREMENT_RE.fullmatch(requirement)
    if match is None or _SPECIFIERS_RE.fullmatch(match["rest"]) is None:
        return None
    return canonicalize_name(match["name"])


def effective_plugin_api(requires: Sequence[str], plugin_api: str | None) -> str | None:
    """The plugin-api in force: the given one, or the first requirement's name with `_`."""
    if plugin_api is not None:
        return plugin_api
    if not requires:
        return None
    name = requirement_name(requires[0])
    return None if name is None else name.replace("-", "_")


def identify_provider(requires: Sequence[str], plugin_api: str | None) -> str | None:
    """The namespace whose built-in provider this provider-table entry names, or None."""
    if len(requires) != 1:
        return None
    name = requirement_name(requires[0])
    api = effective_plugin_api(requires, plugin_api)
    for provider in KNOWN_PROVIDERS.values():
        if name == canonicalize_name(provider.requires[0]) and api == provider.plugin_api:
            return provider.namespace
    return None


def recognised_by_uv(namespace: str, requires: Sequence[str], plugin_api: str | None) -> bool:
    """Whether uv 0.13.9 runs its built-in provider for this entry under this namespace."""
    return identify_provider(requires, plugin_api) == namespace


def provider_project(requires: Sequence[str], plugin_api: str | None) -> str | None:
    """The namespace whose provider *project* an entry names, under any plugin-api, version,
    extras or marker, or by a former name of the project; None when it names none of them.

    Looser than `identify_provider` (what uv runs): it says which vocabulary the publisher
    meant, so fitwheel's built-in provider can serve entries uv skips.
    """
    names = set()
    for requirement in requires:
        match = _PROJECT_RE.match(requirement)
        if match is not None:
            names.add(canonicalize_name(match["name"]))
    if plugin_api:
        names.add(canonicalize_name(plugin_api.partition(":")[0].partition(".")[0]))
    for provider in KNOWN_PROVIDERS.values():
        projects = {canonicalize_name(n) for n in (*provider.requires, *provider.former_names)}
        if names & projects:
            return provider.namespace
    return None


def builtin_refusal(namespace: str, requires: Sequence[str], plugin_api: str | None) -> str | None:
    """Why fitwheel's built-in provider of `namespace` must not serve this provider entry
    (None: it may).

    The built-in serves its namespace when the entry names no provider at all, names the
    namespace's known provider project (any plugin-api or version, or a former name), or when
    no identity is known for the namespace (`amd`, `intel`). It refuses an entry naming
    another namespace's known provider, or an unknown provider for a namespace that has a
    known one: that plugin may give the namespace's properties other meanings.
    """
    if not requires and not plugin_api:
        return None
    owner = provider_project(requires, plugin_api)
    if owner == namespace:
        return None
    parts = [f"requires {', '.join(requires)}"] if requires else []
    if plugin_api:
        parts.append(f"plugin-api {plugin_api}")
    described = "; ".join(parts)
    if owner is not None:
        return (
            f"providers.{namespace} ({described}) names the provider of namespace {owner!r}, "
            f"which does not report namespace {namespace!r}; fitwheel (like uv) does not "
            "use it there"
        )
    known = KNOWN_PROVIDERS.get(namespace)
    if known is None:
        return None
    return (
        f"providers.{namespace} ({described}) is a provider fitwheel does not know; fitwheel "
        f"serves namespace {namespace!r} only for {known.requires[0]} (or no provider entry), "
        "since another plugin may give its properties other meanings"
    )
