"""`fitwheel rank`: a release's labels, best first for a profile, and why others are excluded."""

from __future__ import annotations

import argparse
from typing import Any

from fitwheel.cli._common import add_format_option


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rank",
        help="order a release's variants for a machine profile",
        description="Read a {name}-{version}-variants.json (or a wheel's variant.json) and print "
        "its compatible labels best first (PEP 825 order), and why each other label is excluded. "
        "Exit status 1 when no label is compatible.",
    )
    parser.add_argument(
        "variants_json", metavar="VARIANTS_JSON", help="a release's variants.json (PEP 825)"
    )
    parser.add_argument(
        "--profile",
        required=True,
        metavar="FILE",
        help="profile of the target machine (TOML or JSON; [facts] go through the built-in providers)",
    )
    parser.add_argument(
        "--enable-provider",
        action="append",
        default=[],
        metavar="NAMESPACE",
        help="treat the optional provider of NAMESPACE as enabled (repeatable)",
    )
    add_format_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fitwheel.cli._common import print_json
    from fitwheel.detect import detect
    from fitwheel.errors import InvalidWheel
    from fitwheel.select import Target
    from fitwheel.variants.ordering import rank
    from fitwheel.wheel.generate import read_variants_json
    from fitwheel.wheel.variant import read_wheel_variant

    path = Path(args.variants_json)
    if path.suffix == ".whl":
        document = read_wheel_variant(path).document
        if document is None:
            raise InvalidWheel(f"{path}: not a variant wheel (no variant.json, no label)")
    else:
        document = read_variants_json(path)
    # Through detect, so a profile's [facts] go through the same providers as a real machine.
    profile = detect(profile=args.profile)
    ranking = rank(
        document,
        profile.variants,
        enabled_optional=args.enable_provider,
        environment=Target.of(profile).environment,
        provided_namespaces=profile.provided_namespaces,
    )
    if args.format == "json":
        print_json(ranking.to_json())
    else:
        if ranking.ranked:
            print("compatible, best first:")
            for position, label in enumerate(ranking.ranked, 1):
                description = document.variants[label]
                detail = "null variant" if description.is_null else str(description)
                print(f"  {position}. {label}  ({detail})")
        else:
            print("no compatible variant")
        if ranking.excluded:
            print("excluded:")
            for label, reason in sorted(ranking.excluded.items()):
                print(f"  {label}: {reason}")
    return 0 if ranking.ranked else 1
