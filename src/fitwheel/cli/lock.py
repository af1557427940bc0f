"""`fitwheel lock REQUIREMENT... -o pylock.toml`: one PEP 751 lock for every target machine."""

from __future__ import annotations

import argparse
from typing import Any

from fitwheel.cli._common import add_network_options, url_type


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lock",
        help="write one pylock.toml that installs the right build on every target machine",
        description="Resolve the requirements with pip behind the resolving proxy once per "
        "target (each --profile; default: this machine) and write one PEP 751 lock: every "
        "wheel any target needs, variant wheels under their labelled names with the release's "
        "variants metadata inlined ([packages.variants-json], PEP 825), markers where the "
        "targets' resolutions differ. Wheels only. Locking twice gives the same bytes.",
    )
    parser.add_argument(
        "requirements",
        nargs="*",
        metavar="REQUIREMENT",
        help="a requirement, or a pyproject.toml (its [project] dependencies)",
    )
    parser.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        dest="requirement_files",
        metavar="FILE",
        help="a requirements file (repeatable)",
    )
    parser.add_argument(
        "--index-url",
        action="append",
        default=[],
        type=url_type(local=True),
        metavar="URL",
        help="upstream index, highest precedence first (repeatable; default PyPI)",
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="FILE",
        help="a target machine's profile (repeatable; default: this machine)",
    )
    parser.add_argument(
        "--python-version",
        action="append",
        default=[],
        metavar="X.Y",
        help="lock for this Python version too: each profile once per version (repeatable; "
        "default: each profile's own)",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="TAG",
        help="the targets' wheel platform tags, most preferred first (repeatable, e.g. "
        "manylinux_2_28_x86_64; default: each profile's own)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="pylock.toml",
        metavar="FILE",
        help="where to write the lock: pylock.toml (the default) or pylock.NAME.toml",
    )
    add_network_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from packaging.pylock import is_valid_pylock_path

    from fitwheel.cli._common import network_options
    from fitwheel.detect import detect
    from fitwheel.installers.pip import PYPI
    from fitwheel.lock.make import make_lock, write_lock
    from fitwheel.lock.resolve import LockTarget, Requirements
    from fitwheel.lock.targets import expand
    from fitwheel.progress import Waiting

    if not args.requirements and not args.requirement_files:
        print("fitwheel lock: give requirements or -r FILE", file=sys.stderr)
        return 2
    if not is_valid_pylock_path(Path(args.output)):
        print(
            f"fitwheel lock: {args.output}: a lock is named pylock.toml or pylock.NAME.toml "
            "(PEP 751; uv and pip refuse other names)",
            file=sys.stderr,
        )
        return 2
    network = network_options(args)
    if args.profile:
        targets = [LockTarget(Path(p).stem, detect(profile=p)) for p in args.profile]
    else:
        targets = [LockTarget("this machine", detect())]
    targets = expand(targets, args.python_version, args.platform)
    with Waiting(f"pip to resolve for {len(targets)} targets", ticking=True):
        lock = make_lock(
            Requirements.of(args.requirements, args.requirement_files),
            args.index_url or [PYPI],
            targets,
            network=network,
        )
    write_lock(lock, args.output)
    variant = sum(1 for p in lock.packages if p.variants is not None)
    print(
        f"{args.output}: {len(lock.packages)} packages ({variant} with variants) for "
        f"{', '.join(t.name for t in targets)}"
    )
    return 0
