"""`fitwheel sync pylock.toml`: install from a lock the build this machine should get."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from fitwheel.cli._common import add_format_option, add_network_options

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fitwheel.lock.plan import PlannedInstall


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="install from a pylock.toml the build each package should have on this machine",
        description="Select, offline, the packages of the lock whose markers hold for the "
        "target and for each the wheel PEP 825 ranks first with the lock's inline variants "
        "metadata; fetch every file (locked URL, or --find-links DIR), check every hash, and "
        "only then install them with `installer`.",
    )
    parser.add_argument(
        "lock", metavar="PYLOCK", help="a pylock.toml (from `fitwheel lock` or another tool)"
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="the environment's interpreter (default: the active virtual environment's, "
        "else the one running fitwheel)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="profile of the target machine (TOML or JSON; default: detect this machine)",
    )
    parser.add_argument(
        "--find-links",
        metavar="DIR",
        help="take the files from this folder of wheels (by filename, checked by hash)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan, fetch and install nothing"
    )
    add_format_option(parser)
    add_network_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from fitwheel.cli._common import network_options, print_json
    from fitwheel.detect import detect
    from fitwheel.lock.sync import sync
    from fitwheel.select import Target

    target = Target.of(detect(profile=args.profile))
    active = os.environ.get("VIRTUAL_ENV")
    python = args.python or (
        os.path.join(active, "Scripts" if os.name == "nt" else "bin", "python")
        if active
        else sys.executable
    )
    result = sync(
        args.lock,
        target,
        python=python,
        find_links=args.find_links,
        dry_run=args.dry_run,
        network=None if args.dry_run else network_options(args),
    )
    if args.format == "json":
        print_json({"installed": result.installed, "packages": plan_to_json(result.planned)})
        return 0
    verb = "installed" if result.installed else "would install"
    for line in plan_lines(result.planned):
        print(f"{verb} {line}")
    return 0


def plan_to_json(planned: Sequence[PlannedInstall]) -> list[dict[str, Any]]:
    return [
        {
            "name": p.package.name,
            "version": p.package.version,
            "label": p.label,
            "filename": p.wheel.filename,
            "reason": p.reason,
        }
        for p in planned
    ]


def plan_lines(planned: Sequence[PlannedInstall]) -> list[str]:
    """`NAME VERSION [LABEL]: REASON` per package."""
    return [
        f"{p.package.name} {p.package.version}"
        f"{f' [{p.label}]' if p.label is not None else ''}: {p.reason}"
        for p in planned
    ]
