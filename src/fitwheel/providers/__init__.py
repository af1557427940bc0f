"""Built-in providers: each turns the raw facts of a profile into one namespace's properties.

A provider is a function `facts -> {feature: [values most preferred first]}`; an empty result
means the namespace is unsupported on that machine and is left out of the profile.
"""

from __future__ import annotations

import importlib

from fitwheel.runtime import cpu_namespace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    Provider = Callable[[Mapping[str, Any]], dict[str, list[str]]]

# Namespace -> module in this package; modules are imported on first use.
BUILTIN_NAMESPACES: tuple[str, ...] = ("x86_64", "aarch64", "nvidia", "amd", "intel", "tpu")

# The `[facts]` table each provider reads: without it the provider has nothing to say, and its
# module is not even imported (this runs on every `fitwheel detect`).
FACT_TABLES = {
    "x86_64": "cpu",
    "aarch64": "cpu",
    "nvidia": "nvidia",
    "amd": "amd",
    "intel": "intel",
    "tpu": "tpu",
}


def provider(namespace: str) -> Provider:
    """The built-in provider function for `namespace`; KeyError for an unknown one."""
    if namespace not in BUILTIN_NAMESPACES:
        raise KeyError(namespace)
    module = importlib.import_module(f"{__name__}.{namespace}")
    function: Provider = module.provide
    return function


def provide_all(facts: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Every built-in namespace that `facts` supports, in `BUILTIN_NAMESPACES` order."""
    variants: dict[str, dict[str, list[str]]] = {}
    for namespace in BUILTIN_NAMESPACES:
        table = facts.get(FACT_TABLES[namespace])
        if not table:
            continue
        if FACT_TABLES[namespace] == "cpu" and (
            cpu_namespace(str(table.get("architecture"))) != namespace
        ):
            continue
        properties = provider(namespace)(facts)
        if properties:
            variants[namespace] = properties
    return variants
