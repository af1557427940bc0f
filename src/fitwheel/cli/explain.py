"""`fitwheel explain PROJECT [--index-url URL]`: which file each release gives this machine, and why."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from fitwheel.cli._common import (
    add_family_option,
    add_format_option,
    add_network_options,
    url_type,
)

if TYPE_CHECKING:
    from fitwheel.families import Family, FamilyPage
    from fitwheel.index import Documents
    from fitwheel.index.model import ProjectPage
    from fitwheel.index.network import NetworkOptions
    from fitwheel.select import ReleaseChoice, Target


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show the file each release of a project gives a machine, and why the others lost",
        description="Read PROJECT's page from a simple index (PEP 691 JSON or PEP 503 HTML) or a "
        "local folder, with each release's variants.json, and show per release (newest first) "
        "the file chosen for the target and why every other file lost (PEP 825 order). Exit "
        "status 1 when no release has a file for the target. With --lock pylock.toml instead: "
        "what each --profile would install from the lock, and why.",
    )
    parser.add_argument(
        "project", metavar="PROJECT", nargs="?", help="the project to explain (a name)"
    )
    parser.add_argument("--lock", metavar="PYLOCK", help="explain a lock instead of a project")
    add_index_options(parser)
    add_family_option(parser)
    add_profile_option(parser)
    add_format_option(parser)
    add_network_options(parser)
    parser.set_defaults(func=run)


def add_index_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index-url",
        metavar="URL",
        type=url_type(local=True),
        help="a simple index (http(s)://…/simple/), a local folder (an index tree or a "
        "--find-links style folder of files), or one HTML page of links (…/links.html); "
        "default: the indexes pip, else uv, is configured for, else PyPI",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="retries on connection errors, timeouts and HTTP 5xx (default 3)",
    )


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        action="append",
        metavar="FILE",
        help="profile of the target machine (TOML or JSON; default: detect this machine); "
        "with --lock, repeatable",
    )


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from fitwheel.cli._common import network_options
    from fitwheel.detect import detect
    from fitwheel.families import families_from, family_for
    from fitwheel.progress import Waiting
    from fitwheel.select import Target, choose

    if args.lock is not None:
        from fitwheel.cli._explain_lock import run_lock

        return run_lock(args)
    if args.project is None:
        print("fitwheel explain: give PROJECT, or --lock PYLOCK", file=sys.stderr)
        return 2
    network = network_options(args)
    profile = detect(profile=args.profile[-1] if args.profile else None)
    target = Target.of(profile)
    family = family_for(families_from(args.index_family, os.environ), args.project)
    builds = None
    if family is not None:
        builds, choices = _family_choices(args, family, target, network)
        page = builds.page
    else:
        with Waiting(f"the index page of {args.project}", ticking=True):
            page, documents = _fetch(args, network)
        choices = choose(page, target, documents)
    if args.format == "json":
        _print_json(page, choices, builds)
    else:
        source = f"index family {family.name!r} ({page.url})" if family else page.url
        print(f"{page.name} from {source} for {profile.source}")
        if not choices:
            print(f"\nno release: the page lists no file of {page.name}")
        for choice in choices:
            _print_choice(choice, builds)
    return 0 if any(c.chosen is not None for c in choices) else 1


def _print_json(
    page: ProjectPage, choices: tuple[ReleaseChoice, ...], builds: FamilyPage | None
) -> None:
    """The JSON report; with a family, each rejection names its member (`label`), and each
    member without a build of the release is one more rejection (`"filename": null`)."""
    from fitwheel.cli._common import print_json
    from fitwheel.select import choice_to_json

    releases = []
    for choice in choices:
        entry = choice_to_json(choice)
        if builds is not None:
            for rejected, rejection in zip(entry["rejected"], choice.rejected, strict=True):
                rejected["label"] = builds.member_of(rejection.file)
            entry["rejected"].extend(
                {"filename": None, "label": a.member, "reason": a.reason}
                for a in builds.absent.get(choice.version, ())
            )
        releases.append(entry)
    print_json({"project": page.name, "releases": releases})


def _print_choice(choice: ReleaseChoice, builds: FamilyPage | None) -> None:
    print(f"\n{choice.version}")
    if choice.chosen is not None:
        label = f" (label {choice.label})" if choice.label is not None else ""
        print(f"  ✓ {choice.chosen.filename}{label}: {choice.reason}")
    else:
        print(f"  - nothing: {choice.reason}")
    for rejection in choice.rejected:
        print(f"  ✗ {rejection.file.filename}: {rejection.reason}")
    for missing in builds.absent.get(choice.version, ()) if builds is not None else ():
        print(f"  ✗ ({missing.member}): {missing.reason}")


def _fetch(args: argparse.Namespace, network: NetworkOptions) -> tuple[ProjectPage, Documents]:
    """The project from --index-url, else from the first of the user's indexes that has it."""
    import asyncio

    from fitwheel.index.client import ClientSettings, IndexClient
    from fitwheel.installers.defaults import user_indexes
    from fitwheel.serve.upstreams import Upstreams

    urls = (args.index_url,) if args.index_url else user_indexes().urls
    settings = ClientSettings(network=network).with_timeout(args.timeout)

    async def fetch() -> tuple[ProjectPage, Documents]:
        async with IndexClient(settings.with_retries(args.retries)) as client:
            if len(urls) == 1:
                page = await client.project_page(urls[0], args.project)
            else:
                page = await Upstreams(urls).project_page(client, args.project)
            return page, await client.variants_documents(page)

    return asyncio.run(fetch())


def _family_choices(
    args: argparse.Namespace, family: Family, target: Target, network: NetworkOptions
) -> tuple[FamilyPage, tuple[ReleaseChoice, ...]]:
    """The project from its family's members (anchored), and the choice per release."""
    import asyncio

    from fitwheel.families.fetch import fetch_with_anchor
    from fitwheel.index.client import ClientSettings, IndexClient
    from fitwheel.select import choose_in_family, follow_anchor

    settings = ClientSettings(network=network).with_timeout(args.timeout)
    settings = settings.with_retries(args.retries)

    async def fetch() -> tuple[FamilyPage, FamilyPage | None]:
        async with IndexClient(settings) as client:
            return await fetch_with_anchor(client, family, args.project)

    page, anchor = asyncio.run(fetch())
    if anchor is not None:
        page = follow_anchor(page, anchor, target)
    return page, choose_in_family(page, target)
