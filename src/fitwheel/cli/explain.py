"""`fitwheel explain PROJECT --index-url URL`: which file each release gives this machine, and why."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from fitwheel.cli._common import add_format_option

if TYPE_CHECKING:
    from fitwheel.select import ReleaseChoice


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show the file each release of a project gives a machine, and why the others lost",
        description="Read PROJECT's page from a simple index (PEP 691 JSON or PEP 503 HTML) or a "
        "local folder, with each release's variants.json, and show per release (newest first) "
        "the file chosen for the target and why every other file lost (PEP 825 order). Exit "
        "status 1 when no release has a file for the target.",
    )
    parser.add_argument("project", metavar="PROJECT")
    add_index_options(parser)
    add_profile_option(parser)
    add_format_option(parser)
    parser.set_defaults(func=run)


def add_index_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index-url",
        required=True,
        metavar="URL",
        help="a simple index (http(s)://…/simple/), a local folder (an index tree or a "
        "--find-links style folder of files), or one HTML page of links (…/links.html)",
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
        metavar="FILE",
        help="profile of the target machine (TOML or JSON; default: detect this machine)",
    )


def choice_to_json(choice: ReleaseChoice) -> dict[str, Any]:
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


def run(args: argparse.Namespace) -> int:
    from fitwheel.cli._common import print_json
    from fitwheel.detect import detect
    from fitwheel.index import fetch_project
    from fitwheel.select import Target, choose

    profile = detect(profile=args.profile)
    page, documents = fetch_project(
        args.index_url, args.project, timeout=args.timeout, retries=args.retries
    )
    choices = choose(page, Target.of(profile), documents)
    if args.format == "json":
        print_json({"project": page.name, "releases": [choice_to_json(c) for c in choices]})
    else:
        print(f"{page.name} from {page.url} for {profile.source}")
        for choice in choices:
            print(f"\n{choice.version}")
            if choice.chosen is not None:
                label = f" (label {choice.label})" if choice.label is not None else ""
                print(f"  ✓ {choice.chosen.filename}{label}: {choice.reason}")
            else:
                print(f"  - nothing: {choice.reason}")
            for rejection in choice.rejected:
                print(f"  ✗ {rejection.file.filename}: {rejection.reason}")
    return 0 if any(c.chosen is not None for c in choices) else 1
