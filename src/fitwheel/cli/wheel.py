"""`fitwheel wheel make-variant|unmake|inspect`: variant wheels from plain ones and back."""

from __future__ import annotations

import argparse
from typing import Any

from fitwheel.cli._common import add_format_option


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "wheel", help="make, unmake and inspect variant wheels", description=__doc__
    )
    commands = parser.add_subparsers(dest="wheel_command", metavar="SUBCOMMAND", required=True)

    make = commands.add_parser(
        "make-variant",
        help="turn a wheel into a variant wheel",
        description="Add variant.json to WHEEL, rewrite RECORD, and write {base}-{label}.whl to "
        "OUTDIR. The label defaults to the hash label of the properties. Known namespaces "
        "(nvidia, x86_64, aarch64, tpu) get the provider identity installers recognise; "
        "namespaces that describe the build get static-properties (--static-property).",
    )
    make.add_argument("wheel", metavar="WHEEL", help="a plain wheel to label")
    make.add_argument(
        "-o",
        "--output-dir",
        required=True,
        metavar="OUTDIR",
        help="folder to write the variant wheel into (created if missing)",
    )
    make.add_argument(
        "-p",
        "--property",
        action="append",
        default=[],
        dest="properties",
        metavar="PROPERTY",
        help="'namespace :: feature :: value' (repeatable)",
    )
    make.add_argument(
        "--static-property",
        action="append",
        default=[],
        dest="static_properties",
        metavar="PROPERTY",
        help="a value of a namespace that describes the build, not the machine (e.g. "
        "'blas :: impl :: openblas'); repeatable, best first. Written as the namespace's "
        "static-properties, which installers (fitwheel, uv) treat as supported on every "
        "machine, in this order, with no provider. Give every wheel of the release, the "
        "null one included, the same list; each -p value of such a namespace must be in it",
    )
    group = make.add_mutually_exclusive_group()
    group.add_argument("--label", help="a readable label such as cuda12.8 (default: hash label)")
    group.add_argument("--null", action="store_true", help="make the null variant")
    make.add_argument(
        "--namespace-priority",
        metavar="NS,NS,...",
        help="namespace order for default-priorities (default: the namespaces used, and the "
        "--static-property ones, sorted; "
        "required with --null, where it names the release's namespaces)",
    )
    make.set_defaults(func=run_make)

    unmake = commands.add_parser(
        "unmake",
        help="turn a variant wheel back into a plain wheel",
        description="Remove variant.json, rewrite RECORD, drop the label from the name.",
    )
    unmake.add_argument("wheel", metavar="WHEEL", help="a variant wheel")
    unmake.add_argument(
        "-o",
        "--output-dir",
        required=True,
        metavar="OUTDIR",
        help="folder to write the plain wheel into (created if missing)",
    )
    unmake.set_defaults(func=run_unmake)

    inspect = commands.add_parser(
        "inspect",
        help="show a wheel's name, tags and variant data",
        description="Show a wheel's "
        "name, tags and variant data; fails when variant.json and the filename disagree.",
    )
    inspect.add_argument("wheel", metavar="WHEEL", help="a wheel, variant or plain")
    add_format_option(inspect)
    inspect.set_defaults(func=run_inspect)


def run_make(args: argparse.Namespace) -> int:
    from fitwheel.variants.properties import parse_property
    from fitwheel.wheel.variant import make_variant

    priorities = None
    if args.namespace_priority:
        priorities = [ns.strip() for ns in args.namespace_priority.split(",") if ns.strip()]
    path = make_variant(
        args.wheel,
        args.output_dir,
        [parse_property(p) for p in args.properties],
        label=args.label,
        null=args.null,
        namespace_priorities=priorities,
        static_properties=[parse_property(p) for p in args.static_properties],
    )
    print(path)
    return 0


def run_unmake(args: argparse.Namespace) -> int:
    from fitwheel.wheel.variant import unmake_variant

    print(unmake_variant(args.wheel, args.output_dir))
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from fitwheel.cli._common import print_json
    from fitwheel.wheel.variant import inspect_wheel

    info = inspect_wheel(args.wheel)
    if args.format == "json":
        print_json(info)
        return 0
    print(f"{info['filename']}")
    print(f"  name {info['name']}, version {info['version']}, build {info['build'] or '-'}")
    print(f"  tags {', '.join(info['tags'])}")
    variant = info["variant"]
    if variant is None:
        print("  plain wheel (no variant)")
    else:
        print(f"  variant label {info['label']} (hash label {variant['hash_label']})")
        for prop in variant["properties"] or ["(null variant: no properties)"]:
            print(f"    {prop}")
    return 0
