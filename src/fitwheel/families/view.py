"""A project across a family's members, as one page of variant wheels that `select` can rank.

Each member's build of a release (`torch-2.9.0+cu126-cp311-…whl` on the `cu126` page) becomes a
variant wheel of the public release (`2.9.0`) labelled with the member's name, listed under
the name `torch-2.9.0-cp311-…-cu126.whl` with the real file's URL and hashes; each release
gets a variants document whose labels are the members that have it, with the properties of
their builds. Files without a local version (the same `triton` wheel on every CUDA page) are
plain wheels, listed once. `FamilyPage.real` maps a chosen file back to the real one: an
installer must get the real name, since it checks the name against the wheel's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from packaging.version import Version

from fitwheel.errors import InvalidFamily
from fitwheel.families.builds import Lookup, Version2, format_version2
from fitwheel.families.model import (
    NAMESPACE_ORDER,
    PRIORITY_FEATURE,
    PRIORITY_NAMESPACE,
    Family,
    Member,
)
from fitwheel.families.naming import MemberBuild, member_build
from fitwheel.index.filenames import FileKind, classify
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.variants.metadata import VariantsDocument
from fitwheel.variants.properties import VariantDescription, VariantProperty

MemberPages = Mapping[str, ProjectPage | str]
"""Member name -> its page of the project, or why it has none."""


@dataclass(frozen=True)
class Absent:
    """A member that offers no build of a release, and why."""

    member: str
    reason: str


def _frozen(data: Mapping[str, tuple[Absent, ...]]) -> Mapping[str, tuple[Absent, ...]]:
    return MappingProxyType(dict(data))


@dataclass(frozen=True)
class FamilyPage:
    """One project of a family: the page `select` ranks, and how to get back to real files."""

    family: Family
    page: ProjectPage
    documents: Mapping[str, VariantsDocument | str]
    builds: Mapping[tuple[str, str], MemberBuild]
    """(public version, member) -> what that build was made for."""
    originals: Mapping[str, IndexFile]
    """URL -> the real file listed there."""
    members: Mapping[str, str]
    """URL -> the member whose build is listed there."""
    absent: Mapping[str, tuple[Absent, ...]] = field(default_factory=lambda: _frozen({}))
    """Public version -> the members that have no build of it, and why."""

    def real(self, file: IndexFile) -> IndexFile:
        """The real file behind a file of `page` (itself when it is already real)."""
        return self.originals.get(file.url, file)

    def member_of(self, file: IndexFile) -> str | None:
        """The member a (real or listed) file is the build of; None for a plain file."""
        return self.members.get(file.url)

    def real_page(self, page: ProjectPage) -> ProjectPage:
        """`page` (e.g. resolved from `self.page`) with every member build under its real name."""
        return replace(page, files=tuple(self.real(f) for f in page.files))

    def anchor_release(self, version: str) -> Version2 | None:
        """The anchor release (torch MAJOR.MINOR) a release of this project pairs with."""
        found = _anchor_release(self.family, self.page.name, Version(version))
        return found.value if found is not None else None

    def pinned(self, labels: Mapping[str, str], why: Mapping[str, str]) -> FamilyPage:
        """Keep, for each release in `labels`, only the builds of that member.

        `why[version]` says where the pin comes from ("torch 2.9 comes from cu128"); the
        members dropped are listed as absent with that reason.
        """
        files = []
        absent = {v: list(a) for v, a in self.absent.items()}
        documents = dict(self.documents)
        for version, label in labels.items():
            document = documents.get(version)
            if not isinstance(document, VariantsDocument):
                continue
            others = sorted(set(document.variants) - {label})
            absent.setdefault(version, []).extend(
                Absent(o, f"{o}: {why[version]}; one backend per environment") for o in others
            )
            if label not in document.variants:
                # Said once, with the pin: "has no cu128 build, and torch 2.9 comes from cu128".
                absent[version] = [a for a in absent[version] if a.member != label]
                absent[version].append(
                    Absent(
                        label,
                        f"{self.page.name} {version} has no {label} build, and {why[version]}",
                    )
                )
            documents[version] = replace(
                document,
                variants=MappingProxyType(
                    {k: v for k, v in document.variants.items() if k == label}
                ),
            )
        for file in self.page.files:
            name = classify(file.filename, self.page.name)
            pin = labels.get(str(name.version)) if name is not None else None
            if (
                name is not None
                and name.label is not None
                and pin is not None
                and name.label != pin
            ):
                continue
            files.append(file)
        return replace(
            self,
            page=replace(self.page, files=tuple(files)),
            documents=MappingProxyType(documents),
            absent=_frozen({v: tuple(a) for v, a in absent.items()}),
        )


def _anchor_release(family: Family, project: str, version: Version) -> Lookup[Version2] | None:
    minor = (version.major, version.minor)
    if family.anchor == project:
        return Lookup(minor)
    if family.table is None:
        return None
    return family.table.anchor_of(project, minor)


def _build(family: Family, member: Member, project: str, version: Version) -> MemberBuild:
    """What `member`'s build of `project` `version` requires."""
    priority = VariantProperty(PRIORITY_NAMESPACE, PRIORITY_FEATURE, member.name)
    if member.properties is not None:
        properties = member.properties.properties
        if properties:
            properties = properties | {priority}
        shown = ", ".join(sorted(str(p) for p in member.properties.properties))
        return MemberBuild(VariantDescription(frozenset(properties)), shown or "no requirements")
    assert family.table is not None  # loading checks that derived members have a table
    anchor_name = family.anchor or project
    paired = _anchor_release(family, project, version)
    if paired is None:
        anchor = max(family.table.releases, default=(0, 0))
        note: str | None = (
            f"{project} {version.public} has no pairing with {anchor_name} in the build table; "
            f"using the lists of {anchor_name} {format_version2(anchor)}, the newest listed"
        )
    else:
        anchor, note = paired.value, paired.note
    build = member_build(member.name, family.table, anchor, anchor_name)
    notes = [n for n in (note, build.note) if n]
    return replace(build, note="; ".join(notes) or None)


def _variant_filename(filename: str, public: str, label: str) -> str:
    """`torch-2.9.0+cu126-cp311-…whl` -> `torch-2.9.0-cp311-…-cu126.whl`."""
    parts = filename[: -len(".whl")].split("-")
    parts[1] = public
    return "-".join([*parts, label]) + ".whl"


@dataclass
class _Merged:
    """What the members' pages of one project add up to (collected by `family_page`)."""

    family: Family
    project: str
    files: list[IndexFile] = field(default_factory=list)
    plain: set[str] = field(default_factory=set)
    originals: dict[str, IndexFile] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    labels: dict[Version, dict[str, VariantDescription]] = field(default_factory=dict)
    builds: dict[tuple[str, str], MemberBuild] = field(default_factory=dict)
    failed: dict[Version, list[Absent]] = field(default_factory=dict)
    versions: set[Version] = field(default_factory=set)

    def add(self, member: Member, file: IndexFile) -> None:
        """One file of a member's page: a member build, a plain file, or neither."""
        name = classify(file.filename, self.project)
        if name is None:
            return
        if name.version.local is None:
            if file.filename not in self.plain:
                self.plain.add(file.filename)
                self.files.append(file)
                self.versions.add(name.version)
            return
        if name.kind is not FileKind.WHEEL:
            return  # a local version on an sdist says nothing about a build
        public = Version(name.version.public)
        build = self._build(member, public)
        if build is None:
            return
        self.labels.setdefault(public, {})[member.name] = build.description
        self.versions.add(public)
        self.originals[file.url] = file
        self.members[file.url] = member.name
        self.files.append(file.renamed(_variant_filename(file.filename, str(public), member.name)))

    def _build(self, member: Member, public: Version) -> MemberBuild | None:
        """The member's build of a release, described once; None when it cannot be."""
        key = (str(public), member.name)
        if key not in self.builds:
            if any(a.member == member.name for a in self.failed.get(public, ())):
                return None
            try:
                self.builds[key] = _build(self.family, member, self.project, public)
            except InvalidFamily as exc:
                self.failed.setdefault(public, []).append(Absent(member.name, str(exc)))
                return None
        return self.builds[key]

    def documents(self) -> dict[str, VariantsDocument | str]:
        """One variants document per release with member builds: its members' properties."""
        priorities = tuple(m.name for m in self.family.members)
        static = MappingProxyType(
            {PRIORITY_NAMESPACE: MappingProxyType({PRIORITY_FEATURE: priorities})}
        )
        return {
            str(version): VariantsDocument(
                namespace_priorities=NAMESPACE_ORDER,
                variants=MappingProxyType(variants),
                static_properties=static,
            )
            for version, variants in self.labels.items()
        }

    def absent(self, pages: MemberPages) -> dict[str, tuple[Absent, ...]]:
        """Per release with member builds, the members without one, and why."""
        absent: dict[str, tuple[Absent, ...]] = {}
        for version, present in self.labels.items():
            missing = list(self.failed.get(version, []))
            for member in self.family.members:
                page = pages.get(member.name)
                if isinstance(page, str):
                    missing.append(Absent(member.name, page))
                elif (
                    page is not None
                    and member.name not in present
                    and not any(a.member == member.name for a in missing)
                ):
                    missing.append(
                        Absent(member.name, f"{member.name} has no {self.project} {version} build")
                    )
            absent[str(version)] = tuple(missing)
        return absent


def family_page(family: Family, project: str, pages: MemberPages) -> FamilyPage:
    """Merge the members' pages of `project` (normalized) into one `FamilyPage`."""
    merged = _Merged(family, project)
    urls = []
    for member in family.members:
        page = pages.get(member.name)
        if isinstance(page, ProjectPage):
            urls.append(page.url)
            for file in page.files:
                merged.add(member, file)
    versions = sorted(merged.versions)
    return FamilyPage(
        family=family,
        page=ProjectPage(
            name=project,
            url=urls[0] if len(urls) == 1 else family.url,
            files=tuple(merged.files),
            versions=tuple(str(v) for v in versions),
        ),
        documents=MappingProxyType(merged.documents()),
        builds=MappingProxyType(merged.builds),
        originals=MappingProxyType(merged.originals),
        members=MappingProxyType(merged.members),
        absent=_frozen(merged.absent(pages)),
    )
