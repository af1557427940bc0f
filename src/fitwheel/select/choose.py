"""The best file of each release for a profile, and why every other file lost (PEP 825 order).

Within a release: fitting variant wheels, by the rank of their label (tag priority, then build
number, break ties inside a label), with the null variant after every labelled one; then plain
wheels (tag priority, then build number); then the sdist. Yanked files and files whose
`requires-python` excludes the target are never chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import BuildTag
from packaging.version import InvalidVersion, Version

from fitwheel.index import Documents
from fitwheel.index.filenames import DistributionName, FileKind
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.index.releases import Release, page_releases
from fitwheel.select.target import Target
from fitwheel.variants.filename import parse_variant_wheel_filename
from fitwheel.variants.metadata import VariantsDocument
from fitwheel.variants.ordering import Ranking, rank
from fitwheel.variants.properties import NULL_LABEL


@dataclass(frozen=True)
class Rejection:
    file: IndexFile
    reason: str


@dataclass(frozen=True)
class ReleaseChoice:
    """One release: the file chosen for the target (None if none fits), and why."""

    version: str
    chosen: IndexFile | None
    label: str | None
    reason: str
    rejected: tuple[Rejection, ...]


def summary(choice: ReleaseChoice) -> str:
    """One short reason for a chosen variant: why the builds ranked above it were passed over
    (the first that does not fit), else how many builds fitted."""
    for rejection in choice.rejected:
        reason = rejection.reason
        if reason.startswith("variant ") and " does not fit: " in reason:
            label, _, why = reason.removeprefix("variant ").partition(" does not fit: ")
            feature, none_of, _ = why.partition(": none of ")
            return f"{label.strip(chr(39))} does not fit: " + (
                f"no supported {feature}" if none_of else why
            )
        # An index family's member, in the hardware's words (families.misfit).
        if " has no kernels " in reason or " needs " in reason:
            return reason
    fitting = sum(1 for r in choice.rejected if r.reason.startswith("variant ")) + 1
    return f"the best of {fitting} fitting build{'s' if fitting != 1 else ''}"


def choice_to_json(choice: ReleaseChoice) -> dict[str, Any]:
    """One release's choice as `fitwheel explain --format json` (and the server's explain view)
    report it."""
    chosen = None
    if choice.chosen is not None:
        chosen = {
            "filename": choice.chosen.filename,
            "label": choice.label,
            "url": choice.chosen.url,
            "reason": choice.reason,
        }
    return {
        "version": choice.version,
        "chosen": chosen,
        "reason": choice.reason,
        "rejected": [{"filename": r.file.filename, "reason": r.reason} for r in choice.rejected],
    }


class _Tier(IntEnum):
    VARIANT = 0
    PLAIN_WHEEL = 1
    SDIST = 2


@dataclass(frozen=True)
class _Candidate:
    file: IndexFile
    name: DistributionName
    tier: _Tier
    label_position: int
    tag_position: int
    tag: Tag | None

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.tier, self.label_position, self.tag_position)

    @property
    def build(self) -> BuildTag:
        return self.name.wheel.build if self.name.wheel is not None else ()


def choose(page: ProjectPage, target: Target, documents: Documents) -> tuple[ReleaseChoice, ...]:
    """Choose a file per release of `page` for `target`, newest release first.

    `documents` is what `IndexClient.variants_documents` returns.
    """
    return _choose_releases(page_releases(page), target, documents)


def _choose_releases(
    releases: Mapping[Version, Release], target: Target, documents: Documents
) -> tuple[ReleaseChoice, ...]:
    by_version: dict[Version, VariantsDocument | str] = {}
    for key, value in documents.items():
        try:
            by_version[Version(key)] = value
        except InvalidVersion:
            continue
    return tuple(
        _choose_release(release, by_version.get(version), target)
        for version, release in releases.items()
        if release.files
    )


def _choose_release(release: Release, document: object, target: Target) -> ReleaseChoice:
    version, files = release.version, release.files
    source = " + ".join(f.url for f in release.variants_json) or "the release's variants.json"
    ranking = None
    if isinstance(document, VariantsDocument):
        ranking = rank(
            document,
            target.profile.variants,
            environment=target.environment,
            provided_namespaces=target.profile.provided_namespaces,
        )
    candidates: list[_Candidate] = []
    unusable: list[Rejection] = []
    for file, name in files:
        candidate = _candidate(file, name, document, ranking, source, target)
        if isinstance(candidate, str):
            unusable.append(Rejection(file, candidate))
        else:
            candidates.append(candidate)
    candidates.sort(key=lambda c: c.build, reverse=True)
    candidates.sort(key=lambda c: c.key)
    if not candidates:
        return ReleaseChoice(
            str(version), None, None, "no file of this release fits the target", tuple(unusable)
        )
    winner = candidates[0]
    lost = tuple(Rejection(c.file, _why_lost(c, winner, ranking)) for c in candidates[1:])
    return ReleaseChoice(
        version=str(version),
        chosen=winner.file,
        label=winner.name.label,
        reason=_why_chosen(winner, candidates, ranking, release.has_variant_wheels),
        rejected=lost + tuple(unusable),
    )


def _candidate(
    file: IndexFile,
    name: DistributionName,
    document: object,
    ranking: Ranking | None,
    source: str,
    target: Target,
) -> _Candidate | str:
    """The file as a candidate, or the reason it cannot be one."""
    if file.is_yanked:
        return "yanked" + (f": {file.yanked_reason}" if file.yanked_reason else "")
    if file.requires_python:
        try:
            specifier = SpecifierSet(file.requires_python)
        except InvalidSpecifier:
            return f"its requires-python {file.requires_python!r} is not a valid specifier"
        if not specifier.contains(target.python_version, prereleases=True):
            return f"requires Python {file.requires_python}; the target has {target.python_version}"
    if name.wheel is None:
        return _Candidate(file, name, _Tier.SDIST, 0, 0, None)
    positions = [(target.tag_positions[t], t) for t in name.wheel.tags if t in target.tag_positions]
    if not positions:
        shown = ", ".join(sorted(str(t) for t in name.wheel.tags))
        return f"its tags ({shown}) do not fit the target interpreter"
    tag_position, tag = min(positions)
    label = name.wheel.label
    if label is None:
        return _Candidate(file, name, _Tier.PLAIN_WHEEL, 0, tag_position, tag)
    if isinstance(document, str):
        return document
    if not isinstance(document, VariantsDocument) or ranking is None:
        return (
            "the release has no variants.json, so PEP 825 treats its variant wheels as incompatible"
        )
    if label not in document.variants:
        known = ", ".join(sorted(document.variants)) or "none"
        return (
            f"label {label!r} is not in {source} (its labels: {known}), so the wheel does not "
            "match the index's variant metadata"
        )
    position = ranking.position(label)
    if position is None:
        return f"variant {label!r} does not fit: {ranking.excluded.get(label, 'not supported')}"
    return _Candidate(file, name, _Tier.VARIANT, position, tag_position, tag)


def _why_chosen(
    winner: _Candidate,
    candidates: list[_Candidate],
    ranking: Ranking | None,
    had_variants: bool,
) -> str:
    tag = f"tag {winner.tag}" if winner.tag is not None else ""
    if winner.tier is _Tier.VARIANT:
        assert ranking is not None
        fitting = [
            label for label in ranking.ranked if any(c.name.label == label for c in candidates)
        ]
        if winner.name.label == NULL_LABEL:
            return f"null variant: no labelled variant fits this target ({tag})"
        return (
            f"variant {winner.name.label!r} ranks first of the fitting labels "
            f"({', '.join(fitting)}); {tag}"
        )
    if winner.tier is _Tier.PLAIN_WHEEL:
        because = "; no variant wheel fits" if had_variants else ""
        return f"best plain wheel for the target ({tag}){because}"
    return "source distribution: no wheel fits the target (it would be built locally)"


def _why_lost(loser: _Candidate, winner: _Candidate, ranking: Ranking | None) -> str:
    chosen = winner.file.filename
    if loser.tier != winner.tier:
        if loser.tier is _Tier.PLAIN_WHEEL:
            return f"a fitting variant wheel comes before plain wheels ({chosen})"
        return f"a fitting wheel comes before the source distribution ({chosen})"
    if loser.tier is _Tier.VARIANT and loser.label_position != winner.label_position:
        assert ranking is not None
        if loser.name.label == NULL_LABEL:
            return f"the null variant comes after every fitting variant ({winner.name.label!r})"
        return (
            f"variant {loser.name.label!r} ranks #{loser.label_position + 1}, "
            f"below {winner.name.label!r}"
        )
    if loser.tag_position != winner.tag_position:
        return (
            f"its best tag {loser.tag} ranks #{loser.tag_position + 1} for the target, "
            f"below {winner.tag} (#{winner.tag_position + 1}) of {chosen}"
        )
    if loser.build != winner.build:
        shown = "-".join(str(p) for p in loser.build) or "none"
        return f"build number {shown} is older than {chosen}'s"
    return f"same rank as {chosen}, which is listed first"


@dataclass(frozen=True)
class Resolution:
    """A page as a stock installer should see it, and the choices behind it."""

    page: ProjectPage
    choices: tuple[ReleaseChoice, ...]

    def chosen_variants(self) -> dict[str, ReleaseChoice]:
        """Served (label-less) filename -> the choice, for each release whose variant won."""
        chosen = {}
        for choice in self.choices:
            if choice.chosen is not None and choice.label is not None:
                wheel = parse_variant_wheel_filename(choice.chosen.filename)
                chosen[wheel.base_filename] = choice
        return chosen


def resolve_page(
    page: ProjectPage, target: Target, documents: Documents, *, only_chosen: bool = False
) -> ProjectPage:
    """`resolve(...).page`: the page as a stock installer should see it for `target`."""
    return resolve(page, target, documents, only_chosen=only_chosen).page


def resolve(
    page: ProjectPage, target: Target, documents: Documents, *, only_chosen: bool = False
) -> Resolution:
    """The page as a stock installer should see it for `target`, with the choices.

    For each release, the chosen variant wheel (if a variant was chosen) stays under its
    label-less filename with the same URL and hashes; the other variant wheels and the
    variants.json links are dropped; a plain wheel with the same name as the renamed variant
    is dropped too. Every other file stays as it was, unless `only_chosen`, where each
    release keeps only its chosen file.
    """
    releases = page_releases(page)
    choices = _choose_releases(releases, target, documents)
    names = {(f.filename, f.url): n for r in releases.values() for f, n in r.files}
    documents_listed = {(f.filename, f.url) for r in releases.values() for f in r.variants_json}
    chosen = {(c.chosen.filename, c.chosen.url) for c in choices if c.chosen is not None}
    shadowed = set()
    for key in chosen:
        wheel = names[key].wheel
        if wheel is not None and wheel.label is not None:
            shadowed.add(wheel.base_filename)
    files: list[IndexFile] = []
    for file in page.files:
        key = (file.filename, file.url)
        name = names.get(key)
        if key in documents_listed:
            continue
        if name is not None and name.kind is FileKind.VARIANT_WHEEL:
            if key in chosen:
                assert name.wheel is not None
                files.append(file.renamed(name.wheel.base_filename))
        elif key in chosen or not (only_chosen or file.filename in shadowed):
            files.append(file)
    versions = (
        tuple(c.version for c in reversed(choices) if c.chosen is not None)
        if only_chosen
        else page.versions
    )
    resolved = ProjectPage(name=page.name, url=page.url, files=tuple(files), versions=versions)
    return Resolution(resolved, choices)
