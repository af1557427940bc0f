"""An index family: indexes (members) that each carry one build of the same projects."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from fitwheel.families.builds import BuildTable
from fitwheel.variants.properties import VariantDescription

PRIORITY_NAMESPACE = "priority"
PRIORITY_FEATURE = "member"
"""`priority :: member :: LABEL`: a static property every GPU member carries, so that members
that fit equally well rank in the family's member order (newest build first), not by label."""

NAMESPACE_ORDER = ("nvidia", "amd", "intel", PRIORITY_NAMESPACE)
"""Namespace priorities of a family's releases: a machine with an NVIDIA and an AMD GPU gets
the CUDA build."""


@dataclass(frozen=True)
class Member:
    """One index of a family; its name is the label of every build it carries.

    `properties` is what its builds require when the family file declares it; None means the
    family's build table derives it from the name (`cu126`, `rocm6.4`, `xpu`, `cpu`).
    """

    name: str
    url: str
    properties: VariantDescription | None = None


@dataclass(frozen=True)
class Family:
    """Members in priority order (on a tie, the earlier one wins) and the projects they carry.

    `projects` are only ever taken from the family. `anchor` is the project whose build every
    other project of the family follows (torch): a companion release is given the member its
    anchor release was given, never another one.
    """

    name: str
    url: str
    members: tuple[Member, ...]
    projects: frozenset[str]
    table: BuildTable | None = None
    anchor: str | None = None

    def has(self, project: str) -> bool:
        return canonicalize_name(project) in self.projects

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)
