"""fitwheel: install the build of a Python package that fits the machine (wheel variants, PEP 825).

The public API, for tool authors. Names load on first use, so `import fitwheel` stays cheap
(the CLI and the vendorable runtime never pay for aiohttp or packaging they do not need):

    import fitwheel

    profile = fitwheel.detect()                       # or fitwheel.detect(profile="h100.toml")
    page, documents = fitwheel.fetch_project("https://pypi.org/simple/", "torch")
    for choice in fitwheel.choose(page, fitwheel.Target.of(profile), documents):
        print(choice.version, choice.chosen and choice.chosen.filename, choice.reason)

Every error a user can hit is a `FitwheelError` subclass carrying what was wrong and where.
See docs/api.md.
"""

from __future__ import annotations

from fitwheel._version import __version__

# Not `typing.TYPE_CHECKING`: importing `typing` costs more than this whole file.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fitwheel.detect import detect
    from fitwheel.errors import (
        FitwheelError,
        IndexUnavailable,
        InstallerNotFound,
        InvalidFamily,
        InvalidFolder,
        InvalidIndexPage,
        InvalidLabel,
        InvalidLock,
        InvalidMarker,
        InvalidNetworkOption,
        InvalidOverride,
        InvalidProfile,
        InvalidProperty,
        InvalidVariantMetadata,
        InvalidVariantTable,
        InvalidVariantWheelFilename,
        InvalidWheel,
        LockConflict,
        LockedFileMismatch,
        LockedFileMissing,
        LockNotForTarget,
        NoBuildForTarget,
        ProjectNotFound,
        ResolutionFailed,
        UnknownBuildProperty,
        UnreadableFile,
        UnroutableIndex,
        UpstreamError,
        VariantBuildFailed,
        VariantMetadataConflict,
    )
    from fitwheel.families import Family, FamilyPage, builtin_family, family_page, load_families
    from fitwheel.families.fetch import fetch_family_page
    from fitwheel.index import Documents, fetch_project, fetch_project_async
    from fitwheel.index.build import BuildReport, build_index
    from fitwheel.index.client import ClientSettings, IndexClient
    from fitwheel.index.model import IndexFile, ProjectPage
    from fitwheel.index.network import NetworkOptions
    from fitwheel.lock.document import dumps_lock, loads_lock, read_lock
    from fitwheel.lock.make import make_lock, write_lock
    from fitwheel.lock.model import Lock, LockedFile, LockedPackage
    from fitwheel.lock.plan import PlannedInstall, plan_install
    from fitwheel.lock.resolve import LockTarget, Requirements
    from fitwheel.lock.sync import SyncResult, sync
    from fitwheel.profile import Interpreter, Profile, load_profile, profile_from_document
    from fitwheel.publish.builder import VariantBuildReport, build_variants
    from fitwheel.publish.plan import plan_from_properties, plan_from_table
    from fitwheel.publish.table import load_variant_table
    from fitwheel.select import (
        Rejection,
        ReleaseChoice,
        Target,
        choose,
        choose_in_family,
        follow_anchor,
        resolve_in_family,
        resolve_page,
    )
    from fitwheel.variants.filename import VariantWheelFilename, parse_variant_wheel_filename
    from fitwheel.variants.merge import merge_documents
    from fitwheel.variants.metadata import (
        VariantsDocument,
        loads_variants_document,
        parse_variants_document,
    )
    from fitwheel.variants.ordering import Ranking, rank
    from fitwheel.variants.properties import VariantProperty, hash_label, parse_property
    from fitwheel.variants.support import SupportedProperties
    from fitwheel.wheel.generate import generate_variants_json
    from fitwheel.wheel.variant import inspect_wheel, make_variant, unmake_variant

__all__ = [
    "BuildReport",
    "ClientSettings",
    "Documents",
    "Family",
    "FamilyPage",
    "FitwheelError",
    "IndexClient",
    "IndexFile",
    "IndexUnavailable",
    "InstallerNotFound",
    "Interpreter",
    "InvalidFamily",
    "InvalidFolder",
    "InvalidIndexPage",
    "InvalidLabel",
    "InvalidLock",
    "InvalidMarker",
    "InvalidNetworkOption",
    "InvalidOverride",
    "InvalidProfile",
    "InvalidProperty",
    "InvalidVariantMetadata",
    "InvalidVariantTable",
    "InvalidVariantWheelFilename",
    "InvalidWheel",
    "Lock",
    "LockConflict",
    "LockNotForTarget",
    "LockTarget",
    "LockedFile",
    "LockedFileMismatch",
    "LockedFileMissing",
    "LockedPackage",
    "NetworkOptions",
    "NoBuildForTarget",
    "PlannedInstall",
    "Profile",
    "ProjectNotFound",
    "ProjectPage",
    "Ranking",
    "Rejection",
    "ReleaseChoice",
    "Requirements",
    "ResolutionFailed",
    "SupportedProperties",
    "SyncResult",
    "Target",
    "UnknownBuildProperty",
    "UnreadableFile",
    "UnroutableIndex",
    "UpstreamError",
    "VariantBuildFailed",
    "VariantBuildReport",
    "VariantMetadataConflict",
    "VariantProperty",
    "VariantWheelFilename",
    "VariantsDocument",
    "__version__",
    "build_index",
    "build_variants",
    "builtin_family",
    "choose",
    "choose_in_family",
    "detect",
    "dumps_lock",
    "family_page",
    "fetch_family_page",
    "fetch_project",
    "fetch_project_async",
    "follow_anchor",
    "generate_variants_json",
    "hash_label",
    "inspect_wheel",
    "load_families",
    "load_profile",
    "load_variant_table",
    "loads_lock",
    "loads_variants_document",
    "make_lock",
    "make_variant",
    "merge_documents",
    "parse_property",
    "parse_variant_wheel_filename",
    "parse_variants_document",
    "plan_from_properties",
    "plan_from_table",
    "plan_install",
    "profile_from_document",
    "rank",
    "read_lock",
    "resolve_in_family",
    "resolve_page",
    "sync",
    "unmake_variant",
    "write_lock",
]

# Where each public name is defined; loaded on first access (`__getattr__`).
_MODULES = {
    "fitwheel.detect": ("detect",),
    "fitwheel.errors": (
        "FitwheelError",
        "IndexUnavailable",
        "InstallerNotFound",
        "InvalidFamily",
        "InvalidFolder",
        "InvalidIndexPage",
        "InvalidNetworkOption",
        "InvalidLabel",
        "InvalidLock",
        "InvalidMarker",
        "InvalidOverride",
        "InvalidProfile",
        "InvalidProperty",
        "InvalidVariantMetadata",
        "InvalidVariantTable",
        "InvalidVariantWheelFilename",
        "InvalidWheel",
        "LockConflict",
        "LockedFileMismatch",
        "LockedFileMissing",
        "LockNotForTarget",
        "NoBuildForTarget",
        "ProjectNotFound",
        "ResolutionFailed",
        "UnknownBuildProperty",
        "UnreadableFile",
        "UnroutableIndex",
        "UpstreamError",
        "VariantBuildFailed",
        "VariantMetadataConflict",
    ),
    "fitwheel.families": ("Family", "FamilyPage", "builtin_family", "family_page", "load_families"),
    "fitwheel.families.fetch": ("fetch_family_page",),
    "fitwheel.index": ("Documents", "fetch_project", "fetch_project_async"),
    "fitwheel.index.client": ("ClientSettings", "IndexClient"),
    "fitwheel.index.model": ("IndexFile", "ProjectPage"),
    "fitwheel.index.network": ("NetworkOptions",),
    "fitwheel.index.build": ("BuildReport", "build_index"),
    "fitwheel.lock.document": ("dumps_lock", "loads_lock", "read_lock"),
    "fitwheel.lock.make": ("make_lock", "write_lock"),
    "fitwheel.lock.model": ("Lock", "LockedFile", "LockedPackage"),
    "fitwheel.lock.plan": ("PlannedInstall", "plan_install"),
    "fitwheel.lock.resolve": ("LockTarget", "Requirements"),
    "fitwheel.lock.sync": ("SyncResult", "sync"),
    "fitwheel.profile": ("Interpreter", "Profile", "load_profile", "profile_from_document"),
    "fitwheel.publish.builder": ("VariantBuildReport", "build_variants"),
    "fitwheel.publish.plan": ("plan_from_properties", "plan_from_table"),
    "fitwheel.publish.table": ("load_variant_table",),
    "fitwheel.select": (
        "Rejection",
        "ReleaseChoice",
        "Target",
        "choose",
        "choose_in_family",
        "follow_anchor",
        "resolve_in_family",
        "resolve_page",
    ),
    "fitwheel.variants.filename": ("VariantWheelFilename", "parse_variant_wheel_filename"),
    "fitwheel.variants.merge": ("merge_documents",),
    "fitwheel.variants.metadata": (
        "VariantsDocument",
        "loads_variants_document",
        "parse_variants_document",
    ),
    "fitwheel.variants.ordering": ("Ranking", "rank"),
    "fitwheel.variants.properties": ("VariantProperty", "hash_label", "parse_property"),
    "fitwheel.variants.support": ("SupportedProperties",),
    "fitwheel.wheel.generate": ("generate_variants_json",),
    "fitwheel.wheel.variant": ("inspect_wheel", "make_variant", "unmake_variant"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    import importlib

    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fitwheel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
