"""`fitwheel build`: build a project's variants through its own PEP 517 backend."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "build",
        help="build a project's variant wheels with its own build backend",
        description="Build variant wheels of the project in PROJECT_DIR: for each variant, "
        "run the project's PEP 517 backend through pypa/build (isolated unless "
        "--no-isolation) with the variant's compiler flags in the environment (CFLAGS, "
        "CXXFLAGS, CMAKE_ARGS, CUDAFLAGS, TORCH_CUDA_ARCH_LIST, ...; FITWHEEL_VARIANT_LABEL "
        "and FITWHEEL_VARIANT_PROPERTIES for build scripts), make each result a variant wheel "
        "and write {name}-{version}-variants.json. The variants come from [variant.variants] "
        "in pyproject.toml (--all, --variant LABEL), or from the command line (-p PROPERTY "
        "... [--label L], or --null --namespace-priority NS). Nothing reaches OUTDIR unless "
        "every build succeeds (with --keep-going: the ones that did).",
    )
    parser.add_argument(
        "project",
        nargs="?",
        default=".",
        metavar="PROJECT_DIR",
        help="the project to build: a folder with pyproject.toml (default: .)",
    )
    parser.add_argument("--all", action="store_true", help="every variant of [variant.variants]")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        dest="labels",
        metavar="LABEL",
        help="a variant of [variant.variants] (repeatable)",
    )
    parser.add_argument(
        "-p",
        "--property",
        action="append",
        default=[],
        dest="properties",
        metavar="PROPERTY",
        help="build one variant with these properties, without a table (repeatable)",
    )
    parser.add_argument("--label", help="the label of the -p variant (default: its hash label)")
    parser.add_argument(
        "--null", action="store_true", help="also build the null variant (alone without a table)"
    )
    parser.add_argument(
        "--namespace-priority",
        action="append",
        default=[],
        metavar="NS",
        help="the release's namespaces, most preferred first (repeatable or NS,NS); "
        "without a table, required with --null",
    )
    parser.add_argument(
        "-o",
        "--outdir",
        metavar="OUTDIR",
        help="where the wheels and variants.json go (default: PROJECT_DIR/dist, as pypa/build)",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="builds at once (default: 1)"
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="build every variant even after one fails, and publish the ones that succeed",
    )
    parser.add_argument(
        "--no-isolation",
        dest="isolation",
        action="store_false",
        help="build in this environment (its build requirements must be installed)",
    )
    parser.add_argument(
        "-C",
        "--config-setting",
        action="append",
        default=[],
        dest="config_settings",
        metavar="KEY=VALUE",
        help="passed to the backend for every variant; {label} becomes the variant's label",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show each build starting and ending, and the backend's output of failed builds",
    )
    parser.set_defaults(func=run)


def _plan(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from fitwheel.errors import InvalidVariantTable
    from fitwheel.publish.plan import plan_from_properties, plan_from_table
    from fitwheel.publish.table import load_optional_variant_table, load_variant_table
    from fitwheel.variants.properties import parse_property

    path = Path(args.project) / "pyproject.toml"
    priorities = [ns.strip() for item in args.namespace_priority for ns in item.split(",")]
    priorities = [ns for ns in priorities if ns]
    if args.properties or (args.null and not args.all and not args.labels and priorities):
        if args.all or args.labels:
            raise InvalidVariantTable("-p builds one variant: give it without --all/--variant")
        return plan_from_properties(
            [parse_property(p) for p in args.properties],
            label=args.label,
            null=args.null,
            namespace_priorities=priorities,
            table=load_optional_variant_table(path),
            where=str(path),
        )
    if args.label or priorities:
        raise InvalidVariantTable(
            "--label and --namespace-priority describe a variant built without the table (-p)"
        )
    if not (args.all or args.labels or args.null):
        raise InvalidVariantTable(
            "say what to build: --all, --variant LABEL, -p PROPERTY ..., or --null"
        )
    table = load_variant_table(path)
    return plan_from_table(
        table, labels=[] if args.all else args.labels, null=args.null, where=str(path)
    )


def _size(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def _summary(report: Any) -> list[str]:
    rows = [("label", "properties", "wheel", "size", "time")]
    for outcome in report.outcomes:
        wheel = outcome.wheel.name if outcome.wheel is not None else outcome.status.value
        rows.append(
            (
                outcome.label,
                str(outcome.description),
                wheel,
                _size(outcome.size) if outcome.wheel is not None else "-",
                f"{outcome.seconds:.1f} s" if outcome.seconds else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fitwheel.publish.builder import build_variants

    plan = _plan(args)
    outdir = Path(args.outdir) if args.outdir else Path(args.project) / "dist"

    from fitwheel.progress import Count

    count = Count("building variants", len(plan.builds), "built")
    finished = 0

    def progress(label: str, event: str) -> None:
        nonlocal finished
        if args.verbosity > 0:
            print(f"fitwheel: {label}: {event}", file=sys.stderr, flush=True)
        elif event in ("built", "failed"):  # a terminal: how far, once it takes a while
            finished += 1
            count.update(finished)

    report = build_variants(
        args.project,
        plan,
        outdir,
        jobs=args.jobs,
        keep_going=args.keep_going,
        isolation=args.isolation,
        config_settings=args.config_settings,
        progress=progress if args.verbosity >= 0 else None,
    )
    for line in _summary(report):
        print(line)
    for path in report.variants_json:
        print(path)
    for warning in report.warnings:
        print(f"fitwheel: warning: {warning}", file=sys.stderr)
    untouched = "" if args.keep_going else f"; nothing was written to {outdir}"
    for failure in report.failures:
        if args.verbosity > 0 and failure.log:
            sys.stderr.write(failure.log.rstrip("\n") + "\n")
        print(f"fitwheel: error: {failure.error}{untouched}", file=sys.stderr)
    return 0 if report.ok else 2
