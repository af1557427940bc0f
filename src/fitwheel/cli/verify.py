"""`fitwheel verify`: do the builds installed in an environment still fit this machine?"""

from __future__ import annotations

import argparse
from typing import Any

from fitwheel.cli._common import add_format_option, add_network_options, url_type


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check that the installed variant builds still fit this machine",
        description="Read every installed distribution that came from a variant wheel (its "
        "dist-info keeps variant.json) and every fat wheel (it vendors fitwheel.runtime), and "
        "check each against this machine or a profile: fits, better build available (only "
        "with --index-url), or does not fit, with the command that fixes it. Offline unless "
        "--index-url is given. Exit status 1 when a build does not fit or cannot be read.",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="the environment's interpreter (default: the one running fitwheel)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="check against this profile instead of detecting the machine",
    )
    parser.add_argument(
        "--index-url",
        metavar="URL",
        type=url_type(local=True),
        help="also compare with every build of each release on this index (network)",
    )
    add_format_option(parser)
    add_network_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from fitwheel.cli._common import print_json
    from fitwheel.detect import detect
    from fitwheel.select import Target
    from fitwheel.verify import (
        Report,
        Status,
        environment_paths,
        fetch_releases,
        installed_variants,
        verify_fat,
        verify_variants,
    )

    python = args.python or sys.executable
    paths = (
        environment_paths(args.python)
        if args.python
        else [Path(p) for p in sys.path if p and Path(p).is_dir()]
    )
    profile = detect(profile=args.profile)
    variants, fat, seen = installed_variants(paths)
    releases = None
    if args.index_url:
        import asyncio

        from fitwheel.cli._common import network_options

        names = [d.name for d in variants]
        releases = asyncio.run(fetch_releases(args.index_url, names, network_options(args)))
    verdicts = verify_variants(variants, Target.of(profile), releases, profile_path=args.profile)
    verdicts += verify_fat(fat, python)
    report = Report(tuple(verdicts), seen)
    if args.format == "json":
        print_json(
            {
                "target": profile.source,
                "checked": report.checked,
                "packages": [v.to_json() for v in report.verdicts],
            }
        )
    else:
        print(
            f"{len(report.verdicts)} variant build(s) among {report.checked} distributions, "
            f"checked for {profile.source}"
        )
        marks = {Status.FITS: "✓", Status.BETTER: "~", Status.MISFIT: "✗", Status.UNREADABLE: "?"}
        for verdict in report.verdicts:
            label = f" [{verdict.label}]" if verdict.label else ""
            print(
                f"  {marks[verdict.status]} {verdict.name} {verdict.version}{label}: "
                f"{verdict.status.value}: {verdict.reason}"
            )
            if verdict.fix:
                print(f"      fix: {verdict.fix}")
    return 1 if report.failed else 0
