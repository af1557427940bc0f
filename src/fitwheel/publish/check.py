"""The publisher's lint for a `[variant]` table: the checks of a `variants.json`, run on the one
`fitwheel build --all` would publish from it."""

from __future__ import annotations

from fitwheel.errors import FitwheelError
from fitwheel.publish.plan import plan_from_table
from fitwheel.publish.table import VariantTable
from fitwheel.variants.check import CheckReport, Finding, Severity, check_document
from fitwheel.variants.metadata import document_to_json
from fitwheel.variants.properties import NULL_LABEL


def check_variant_table(table: VariantTable, *, where: str) -> CheckReport:
    """Findings for the release `table` describes; every variant's flags are checked too."""
    try:
        plan = plan_from_table(table, where=where)
        document = plan.release_document()
    except FitwheelError as exc:
        return CheckReport((Finding(Severity.ERROR, where, str(exc)),))
    _, findings = check_document(document_to_json(document), where=where)
    if NULL_LABEL not in document.variants:
        findings.append(
            Finding(
                Severity.WARNING,
                where,
                "no null variant: a machine that supports none of the variants gets no "
                "install at all; add `null = {}` to [variant.variants]",
            )
        )
    return CheckReport(tuple(findings))
