"""Index families: per-accelerator indexes (PyTorch's `whl/cu126`, …) read as variants.

A family's members each carry one build of the same projects. `fetch.fetch_family_page` reads
a project from every member (it is kept out of this module so that loading a family, on every
`fitwheel pip`, does not import asyncio and the HTTP client) and `family_page` turns the builds
into variant wheels labelled by member, with properties from the family's build table (or
its file), so the PEP 825 ranking in `fitwheel.select` chooses among them like among any
variant wheels.
"""

from fitwheel.families.loading import (
    FAMILIES_ENV,
    builtin_family,
    families_from,
    family_for,
    load_families,
    parse_family_spec,
)
from fitwheel.families.model import Family, Member
from fitwheel.families.reasons import misfit
from fitwheel.families.view import Absent, FamilyPage, family_page

__all__ = [
    "FAMILIES_ENV",
    "Absent",
    "Family",
    "FamilyPage",
    "Member",
    "builtin_family",
    "families_from",
    "family_for",
    "family_page",
    "load_families",
    "misfit",
    "parse_family_spec",
]
