"""Choosing among an index family's members: the same PEP 825 choice, one backend per machine.

`choose_in_family` and `resolve_in_family` are `choose` and `resolve_page` over a
`FamilyPage`, with the real files put back and the reasons restated in the words of the
hardware. `follow_anchor` makes a companion project (torchvision) take, for each release,
the member its anchor release (torch) was given, so one environment never mixes builds.
"""

from __future__ import annotations

from packaging.version import Version

from fitwheel.families import FamilyPage, misfit
from fitwheel.families.builds import format_version2
from fitwheel.index.model import ProjectPage
from fitwheel.select.choose import Rejection, ReleaseChoice, choose, resolve_page
from fitwheel.select.target import Target
from fitwheel.variants.metadata import VariantsDocument
from fitwheel.variants.ordering import rank


def follow_anchor(page: FamilyPage, anchor: FamilyPage, target: Target) -> FamilyPage:
    """`page` with each release pinned to the member its anchor release gets on `target`.

    The newest release of each anchor MAJOR.MINOR decides for that series; a release whose
    anchor got no member build (a plain wheel, or nothing) is left as it is.
    """
    given: dict[tuple[int, int], str] = {}
    for choice in choose(anchor.page, target, anchor.documents):
        if choice.label is not None:
            release = Version(choice.version)
            given.setdefault((release.major, release.minor), choice.label)
    pins: dict[str, str] = {}
    why: dict[str, str] = {}
    for version in page.documents:
        series = page.anchor_release(version)
        if series is not None and series in given:
            pins[version] = given[series]
            why[version] = (
                f"{anchor.page.name} {format_version2(series)} comes from {given[series]}"
            )
    return page.pinned(pins, why)


def choose_in_family(page: FamilyPage, target: Target) -> tuple[ReleaseChoice, ...]:
    """`choose` over the family's builds; chosen and rejected files are the real ones.

    A release whose every build was set aside (`follow_anchor`) is still listed, with nothing
    chosen, so its members' reasons are shown.
    """
    choices = [_restated(c, page, target) for c in choose(page.page, target, page.documents)]
    listed = {c.version for c in choices}
    choices += [
        ReleaseChoice(version, None, None, "no member of the family has a build left for it", ())
        for version in page.absent
        if version not in listed
    ]
    return tuple(sorted(choices, key=lambda c: Version(c.version), reverse=True))


def resolve_in_family(
    page: FamilyPage, target: Target, *, only_chosen: bool = False
) -> ProjectPage:
    """`resolve_page` over the family's builds, each chosen build under its real name."""
    resolved = resolve_page(page.page, target, page.documents, only_chosen=only_chosen)
    return page.real_page(resolved)


def _restated(choice: ReleaseChoice, page: FamilyPage, target: Target) -> ReleaseChoice:
    profile = target.profile
    document = page.documents.get(choice.version)
    excluded = {}
    if isinstance(document, VariantsDocument):
        ranking = rank(
            document,
            profile.variants,
            environment=target.environment,
            provided_namespaces=profile.provided_namespaces,
        )
        excluded = dict(ranking.excluded)
    rejected = []
    for rejection in choice.rejected:
        label = page.member_of(rejection.file)
        reason = rejection.reason
        if label is not None:
            build = page.builds.get((choice.version, label))
            wording = misfit(label, build, profile.variants) if build is not None else None
            if label in excluded:
                reason = wording or f"{label}: {excluded[label]}"
            else:
                reason = f"{label}: {reason}"
        rejected.append(Rejection(page.real(rejection.file), reason))
    chosen, reason = choice.chosen, choice.reason
    if chosen is not None:
        build = page.builds.get((choice.version, choice.label or ""))
        if build is not None:
            reason = f"{reason}; {choice.label} is {build.summary}"
            if build.note:
                reason += f" ({build.note})"
        chosen = page.real(chosen)
    return ReleaseChoice(
        version=choice.version,
        chosen=chosen,
        label=choice.label,
        reason=reason,
        rejected=tuple(rejected),
    )
