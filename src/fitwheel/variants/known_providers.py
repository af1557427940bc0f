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

_REQUIREMENT_RE = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?P<rest>[^;\[]*)\s*"
)
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
            ),
            KnownProvider(
                namespace="aarch64",
                requires=("aarch64-variant-provider",),
                plugin_api="aarch64_variant_provider",
                features=(),
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


def normalize_name(name: str) -> str:
    """PEP 503 normalisation of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str | None:
    """The normalised name of a requirement that has only version specifiers, else None.

    A requirement with extras or an environment marker is not one uv maps to a built-in.
    """
    match = _REQUIREMENT_RE.fullmatch(requirement)
    if match is None or _SPECIFIERS_RE.fullmatch(match["rest"]) is None:
        return None
    return normalize_name(match["name"])


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
        if name == normalize_name(provider.requires[0]) and api == provider.plugin_api:
            return provider.namespace
    return None


def recognised_by_uv(namespace: str, requires: Sequence[str], plugin_api: str | None) -> bool:
    """Whether uv 0.13.9 runs its built-in provider for this entry under this namespace."""
    return identify_provider(requires, plugin_api) == namespace
