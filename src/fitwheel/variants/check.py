"""A publisher's lint for variants metadata: will fitwheel and uv both select from it correctly?

Pure code: the caller reads the files (a `variants.json`, and each wheel's filename and
`variant.json`) and passes the decoded JSON. Findings say what is wrong and what to write
instead; an `error` is something that makes an installer select wrongly or fail, a `warning`
something that works in fitwheel but not everywhere. The uv facts behind each rule are in
`docs/uv-interop.md`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fitwheel.errors import FitwheelError
from fitwheel.variants.filename import parse_variant_wheel_filename
from fitwheel.variants.known_providers import KNOWN_PROVIDERS, identify_provider
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import (
    SCHEMA_PEP825,
    ProviderInfo,
    VariantsDocument,
    parse_variants_document,
)
from fitwheel.variants.properties import NULL_LABEL, VariantDescription

SCHEMA_UV_PROVIDERS = "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
"""The providers-draft URL uv 0.13.9 knows by name (it also reads variantlib's `/v0.2.0.json`)."""

# Fields of the PEP 817-era schema that uv 0.13.9 cannot parse: the whole file is rejected.
_PEP817_PROVIDER_FIELDS = ("enable-if", "install-time")
# PEP 825's optional order overrides: fitwheel honours them, uv 0.13.9 cannot parse them.
_PRIORITY_OVERRIDES = {"feature": "feature", "property": "value"}
# Digits bounded: a longer number is none uv reports (and int() of thousands of digits raises).
_SM_ARCH_RE = re.compile(
    r"(?P<major>[0-9]{1,4})(?P<minor>[0-9])(?P<suffix>[a-z]*)_(?P<kind>real|virtual)"
)
_CUDA_VERSION_RE = re.compile(r"(?P<major>[0-9]{1,4})(?:\.(?P<minor>[0-9]{1,4}))?")


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.severity.value}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity.value, "where": self.where, "message": self.message}


@dataclass(frozen=True)
class WheelMetadata:
    """One wheel of a release as the checker sees it: its filename and decoded `variant.json`."""

    filename: str
    variant_json: Any | None


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        """True when something would make an installer select wrongly or fail."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    def to_json(self) -> dict[str, Any]:
        return {"ok": not self.failed, "findings": [f.to_json() for f in self.findings]}


def _error(where: str, message: str) -> Finding:
    return Finding(Severity.ERROR, where, message)


def _warning(where: str, message: str) -> Finding:
    return Finding(Severity.WARNING, where, message)


def _known_table(namespace: str) -> str:
    return json.dumps(KNOWN_PROVIDERS[namespace].provider_table())


def check_document(data: Any, *, where: str) -> tuple[VariantsDocument | None, list[Finding]]:
    """Check one decoded variants document; return it parsed (None when unreadable)."""
    try:
        document = parse_variants_document(data, where=where)
    except FitwheelError as exc:
        return None, [_error(where, f"{exc}; fitwheel and uv cannot use this file")]
    return document, _raw_findings(data, where) + _document_findings(document, where)


def _document_findings(document: VariantsDocument, where: str) -> list[Finding]:
    findings = _provider_findings(document, where)
    for label, description in sorted(document.variants.items()):
        findings.extend(_vocabulary_findings(document, label, description, where))
    return findings


def _raw_findings(data: Mapping[str, Any], where: str) -> list[Finding]:
    """Shapes fitwheel's reader accepts but uv 0.13.9 rejects (the release becomes uninstallable)."""
    findings = []
    priorities = data.get("default-priorities", {})
    if not priorities.get("namespace"):
        findings.append(
            _error(
                where,
                "default-priorities.namespace is empty: uv rejects the file ('Variant namespace "
                "priorities must be non-empty'), the null variant's variant.json included; list "
                "the release's namespaces",
            )
        )
    for key, what in _PRIORITY_OVERRIDES.items():
        if key in priorities:
            findings.append(
                _error(
                    where,
                    f"default-priorities.{key} (PEP 825's optional override of the {what} "
                    "order; fitwheel honours it) makes uv 0.13.9 reject the whole file; for "
                    "uv, drop it and give the order through each provider's feature-order "
                    f"and static-properties, with $schema {SCHEMA_UV_PROVIDERS}",
                )
            )
    if "static-properties" in data:
        findings.append(
            _error(
                where,
                "top-level static-properties (PEP 817-era schema) makes uv reject the whole "
                'file; write them per namespace instead: providers.NS = {"static-properties": '
                f"{{...}}}} with $schema {SCHEMA_UV_PROVIDERS}",
            )
        )
    for namespace, raw in sorted((data.get("providers") or {}).items()):
        for key in _PEP817_PROVIDER_FIELDS:
            if key in raw:
                findings.append(
                    _error(
                        where,
                        f"providers.{namespace}.{key} (PEP 817-era schema) makes uv reject the "
                        "whole file; remove it",
                    )
                )
        if isinstance(raw.get("requires"), str):
            findings.append(
                _error(
                    where,
                    f"providers.{namespace}.requires is a string; uv rejects the whole file. "
                    f'Write a list: "requires": [{json.dumps(raw["requires"])}]',
                )
            )
    return findings


def _provider_findings(document: VariantsDocument, where: str) -> list[Finding]:
    findings = []
    used = set().union(*(d.namespaces for d in document.variants.values()))
    declared = set(document.providers) | set(document.static_properties)
    if document.providers and declared != set(document.namespace_priorities):
        findings.append(
            _error(
                where,
                "uv requires a providers entry for exactly the namespaces of "
                f"default-priorities.namespace ({', '.join(document.namespace_priorities)}); "
                f"found {', '.join(sorted(declared)) or 'none'} — uv rejects the whole file",
            )
        )
    for namespace in document.namespace_priorities:
        if namespace not in used:
            continue
        provider = document.providers.get(namespace)
        static = document.static_properties.get(namespace)
        if static is not None:
            if len(static) > 1 and not (provider and provider.feature_order):
                findings.append(
                    _error(
                        where,
                        f"providers.{namespace} has {len(static)} static features but no "
                        f"feature-order; uv rejects the whole file. Add "
                        f'"feature-order": {json.dumps(list(static))}',
                    )
                )
            continue
        findings.extend(_namespace_provider_findings(namespace, provider, where))
    return findings


def _namespace_provider_findings(
    namespace: str, provider: ProviderInfo | None, where: str
) -> list[Finding]:
    known = KNOWN_PROVIDERS.get(namespace)
    if known is None:
        what = "no provider entry" if provider is None else provider.describe()
        return [
            _warning(
                where,
                f"namespace {namespace!r} ({what}): uv and stock installers have no built-in "
                "provider for it, so they never install these variants (uv falls back to the "
                "null variant without a message). If the namespace describes the build rather "
                f'than the machine, write providers.{namespace} = {{"static-properties": '
                "{feature: [values, best first]}}; otherwise uv users need fitwheel "
                "(`fitwheel uv pip install`) or the resolving index",
            )
        ]
    fix = f"write providers.{namespace} = {_known_table(namespace)}"
    if provider is None:
        return [
            _error(
                where,
                f"namespace {namespace!r} has no provider entry: uv silently installs the null "
                f"variant on every machine; {fix}",
            )
        ]
    if identify_provider(provider.requires, provider.plugin_api) != namespace:
        return [
            _error(
                where,
                f"providers.{namespace} ({provider.describe()}) is not the identity of uv's "
                f"built-in {namespace} provider: uv skips it and silently installs the null "
                f"variant; {fix}",
            )
        ]
    if provider.optional:
        return [
            _warning(
                where,
                f"providers.{namespace} is optional: uv never runs optional providers, so uv "
                f"users always get the null variant; drop `optional` unless that is intended",
            )
        ]
    return []


def uv_reports(namespace: str, feature: str, value: str) -> bool | None:
    """Whether uv 0.13.9's built-in provider can ever report this property (None: unknown)."""
    known = KNOWN_PROVIDERS.get(namespace)
    if known is None or not known.features:
        return None
    if feature not in known.features:
        return False
    if namespace == "nvidia" and feature == "sm_arch":
        match = _SM_ARCH_RE.fullmatch(value)
        if match is None or match["suffix"] or int(match["major"]) < 5:
            return False
        return match["kind"] == "real" or match["minor"] == "0"
    if namespace == "nvidia":
        match = _CUDA_VERSION_RE.fullmatch(value)
        return (
            match is not None and 11 <= int(match["major"]) <= 15 and int(match["minor"] or 0) <= 20
        )
    if namespace == "x86_64":
        return value in ("v1", "v2", "v3", "v4")
    if namespace == "tpu":
        return value in ("true", "false")
    return None


def _vocabulary_findings(
    document: VariantsDocument, label: str, description: VariantDescription, where: str
) -> list[Finding]:
    findings = []
    for (namespace, feature), values in description.features.items():
        static = document.static_properties.get(namespace)
        if static is not None:
            if not set(values) & set(static.get(feature, ())):
                findings.append(
                    _warning(
                        where,
                        f"variant {label!r}: {namespace} :: {feature} :: {' | '.join(values)} "
                        f"is not among providers.{namespace}.static-properties.{feature} "
                        f"({', '.join(static.get(feature, ())) or 'none'}), so no installer "
                        "ever installs this variant; add the value there (`fitwheel wheel "
                        "make-variant --static-property`)",
                    )
                )
            continue
        if all(uv_reports(namespace, feature, v) is False for v in values):
            findings.append(
                _warning(
                    where,
                    f"variant {label!r}: uv's built-in {namespace} provider never reports "
                    f"{namespace} :: {feature} :: {' | '.join(values)}, so uv never installs "
                    f"this variant{_vocabulary_hint(namespace, feature)}",
                )
            )
    return findings


def _vocabulary_hint(namespace: str, feature: str) -> str:
    known = KNOWN_PROVIDERS[namespace]
    if feature not in known.features:
        return f" (its features are {', '.join(known.features)})"
    if (namespace, feature) == ("nvidia", "sm_arch"):
        return (
            " (uv reports {major}{minor}_real and only {major}0_virtual; list the matching "
            "_real archs, or the major's 0_virtual, beside a PTX arch)"
        )
    return ""


def check_release(  # noqa: C901
    variants_json: Any | None,
    wheels: Sequence[WheelMetadata],
    *,
    where: str,
) -> CheckReport:
    """Check a release: its `variants.json` (decoded, or None when absent) and its wheels.

    `where` names the variants.json (or the folder, when it is absent) in findings.
    """
    findings: list[Finding] = []
    index_document: VariantsDocument | None = None
    if variants_json is not None:
        index_document, found = check_document(variants_json, where=where)
        findings.extend(found)

    merged: VariantsDocument | None = None
    variant_wheels: dict[str, tuple[str, VariantsDocument]] = {}
    has_plain = False
    for wheel in sorted(wheels, key=lambda w: w.filename):
        try:
            label = parse_variant_wheel_filename(wheel.filename).label
        except FitwheelError as exc:
            findings.append(_error(wheel.filename, str(exc)))
            continue
        if wheel.variant_json is None:
            if label is not None:
                findings.append(
                    _error(wheel.filename, f"filename has label {label!r} but no variant.json")
                )
            has_plain = True
            continue
        wheel_where = f"{wheel.filename}:variant.json"
        try:
            document = parse_variants_document(wheel.variant_json, where=wheel_where)
        except FitwheelError as exc:
            findings.append(_error(wheel_where, f"{exc}; installers cannot use this wheel"))
            continue
        findings.extend(_raw_findings(wheel.variant_json, wheel_where))
        if label is None or len(document.variants) != 1 or label not in document.variants:
            findings.append(
                _error(
                    wheel.filename,
                    f"variant.json must describe only the filename's label {label!r}; it has "
                    f"{', '.join(sorted(document.variants)) or 'none'}",
                )
            )
            continue
        variant_wheels[wheel.filename] = (label, document)
        try:
            merged = document if merged is None else merge_documents(merged, document)
        except FitwheelError as exc:
            findings.append(_error(wheel.filename, f"disagrees with the other wheels: {exc}"))

    if variant_wheels and index_document is None and variants_json is None:
        findings.append(
            _error(
                where,
                "variant wheels without {name}-{version}-variants.json: uv treats every variant "
                "(even null) as unsupported. Run `fitwheel variants generate DIR` and publish the "
                "file beside the wheels, linked from the project page",
            )
        )
    if index_document is not None:
        findings.extend(_consistency_findings(index_document, variant_wheels, where))
    elif variants_json is None and merged is not None:
        # Without a release file, the wheels' merged metadata is what a generator would write.
        findings.extend(_document_findings(merged, where))
    release = index_document or merged
    if release is not None and NULL_LABEL not in release.variants and not has_plain:
        findings.append(
            _warning(
                where,
                "no null variant and no plain wheel: a machine that supports none of the "
                "variants gets no install at all; add one (`fitwheel wheel make-variant --null`)",
            )
        )
    return CheckReport(tuple(findings))


def _consistency_findings(
    index: VariantsDocument,
    wheels: Mapping[str, tuple[str, VariantsDocument]],
    where: str,
) -> list[Finding]:
    findings = []
    seen = set()
    for filename, (label, document) in sorted(wheels.items()):
        seen.add(label)
        expected = index.variants.get(label)
        actual = document.variants[label]
        if expected is None:
            findings.append(
                _error(
                    filename,
                    f"label {label!r} is missing from the release's variants.json: installers "
                    "never choose this wheel; run `fitwheel variants generate` again",
                )
            )
            continue
        if expected != actual:
            findings.append(
                _error(
                    filename,
                    f"label {label!r} has properties {actual} in the wheel but {expected} in "
                    "variants.json: installers choose by variants.json and uv then rejects the "
                    "wheel; rebuild one of them",
                )
            )
        findings.extend(_wheel_provider_findings(filename, label, actual, document, index))
    for label in sorted(set(index.variants) - seen):
        findings.append(
            _warning(where, f"label {label!r} is listed but no wheel in this folder carries it")
        )
    return findings


def _wheel_provider_findings(
    filename: str,
    label: str,
    description: VariantDescription,
    wheel: VariantsDocument,
    index: VariantsDocument,
) -> list[Finding]:
    """uv re-checks the chosen wheel against its own variant.json's provider table."""
    findings = []
    for namespace in sorted(description.namespaces):
        if namespace in wheel.static_properties:
            continue
        index_provider = index.providers.get(namespace)
        wheel_provider = wheel.providers.get(namespace)
        if index_provider is None or namespace not in KNOWN_PROVIDERS:
            continue
        index_ok = identify_provider(index_provider.requires, index_provider.plugin_api)
        wheel_ok = (
            wheel_provider is not None
            and identify_provider(wheel_provider.requires, wheel_provider.plugin_api) == namespace
        )
        if index_ok == namespace and not wheel_ok:
            findings.append(
                _error(
                    filename,
                    f"variant.json has no usable provider for {namespace!r} while variants.json "
                    f"has one: uv chooses {label!r} and then fails the install ('requires "
                    f"unsupported properties'); write providers.{namespace} = "
                    f"{_known_table(namespace)} in the wheel too"
                    + (
                        f" with $schema {SCHEMA_UV_PROVIDERS}"
                        if wheel.schema == SCHEMA_PEP825
                        else ""
                    ),
                )
            )
    return findings
