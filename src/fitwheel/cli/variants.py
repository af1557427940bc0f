"""`fitwheel variants label|generate|merge`: work with variants metadata."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fitwheel.cli._common import add_format_option


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "variants",
        help="label, generate and merge variants metadata",
        description="Work with {name}-{version}-variants.json files.",
    )
    commands = parser.add_subparsers(dest="variants_command", metavar="SUBCOMMAND", required=True)

    label = commands.add_parser(
        "label",
        help="print the default (hash) label of a property set",
        description="Print variantlib's default label: the first 8 hex digits of sha256 over the "
        "sorted 'ns :: feature :: value' lines.",
    )
    label.add_argument("properties", nargs="+", metavar="PROPERTY", help="'ns :: feature :: value'")
    label.set_defaults(func=run_label)

    generate = commands.add_parser(
        "generate",
        help="write {name}-{version}-variants.json beside the variant wheels in DIR",
        description="For every release with variant wheels in DIR, merge their variant.json "
        "files (and an existing variants.json) and write {name}-{version}-variants.json. "
        "Provider tables, static-properties included, must be the same in every wheel "
        "(`wheel make-variant --static-property` with the same list for each).",
    )
    generate.add_argument(
        "directory", metavar="DIR", help="a folder of one release's variant wheels"
    )
    generate.set_defaults(func=run_generate)

    merge = commands.add_parser(
        "merge",
        help="merge two variants.json files",
        description="Merge two variants documents of one release: namespace priorities must be "
        "prefixes of each other, labels must agree.",
    )
    merge.add_argument("first", metavar="A", help="a variants.json")
    merge.add_argument("second", metavar="B", help="another variants.json of the same release")
    merge.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    merge.set_defaults(func=run_merge)

    check = commands.add_parser(
        "check",
        help="lint variants.json, variant wheels or a pyproject.toml [variant] table",
        description="Check a {name}-{version}-variants.json, or a folder of variant wheels and "
        "their variants.json: schema, labels and properties of wheels against variants.json, "
        "and provider entries uv's built-in support would not recognise (with what to write "
        "instead). A pyproject.toml is checked as the variants.json `fitwheel build --all` would "
        "write from its [variant] table. Exit status 1 when something would make an installer "
        "select wrongly.",
    )
    check.add_argument(
        "path", metavar="FILE_OR_DIR", help="a variants.json, a wheel, or a folder of them"
    )
    add_format_option(check)
    check.set_defaults(func=run_check)


def run_label(args: argparse.Namespace) -> int:
    from fitwheel.variants.properties import hash_label, parse_property

    print(hash_label(parse_property(p) for p in args.properties))
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from fitwheel.wheel.generate import generate_variants_json

    written = generate_variants_json(args.directory)
    for path in written:
        print(path)
    if not written:
        print(f"no variant wheels in {args.directory}", file=sys.stderr)
        return 1
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fitwheel.files import write_atomically
    from fitwheel.variants.merge import merge_documents
    from fitwheel.variants.metadata import dumps_variants_document
    from fitwheel.wheel.generate import read_variants_json

    merged = merge_documents(
        read_variants_json(Path(args.first)), read_variants_json(Path(args.second))
    )
    text = dumps_variants_document(merged)
    if args.output:
        write_atomically(Path(args.output), text.encode())
    else:
        sys.stdout.write(text)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fitwheel.cli._common import print_json
    from fitwheel.decoding import loads_json
    from fitwheel.errors import FitwheelError, InvalidVariantMetadata, InvalidWheel
    from fitwheel.variants.check import (
        CheckReport,
        Finding,
        Severity,
        WheelMetadata,
        check_release,
    )
    from fitwheel.wheel.archive import VARIANT_JSON, open_wheel
    from fitwheel.wheel.generate import Release, read_bounded, release_of

    def load(path: Path) -> object:
        return loads_json(read_bounded(path), where=str(path), error=InvalidVariantMetadata)

    path = Path(args.path)
    findings: list[Finding] = []
    if path.is_dir():
        releases: dict[Release, list[WheelMetadata]] = {}
        for wheel in sorted(path.glob("*.whl")):
            try:
                archive = open_wheel(wheel)
                raw = archive.read_dist_info(VARIANT_JSON)
                where = f"{wheel}:{archive.member_path(VARIANT_JSON)}"
                data = None if raw is None else loads_json(raw, where=where, error=InvalidWheel)
            except FitwheelError as exc:
                # One broken wheel is a finding about it; the rest of the folder is still checked.
                findings.append(Finding(Severity.ERROR, wheel.name, str(exc)))
                continue
            releases.setdefault(release_of(wheel.name), []).append(WheelMetadata(wheel.name, data))
        for document in sorted(path.glob("*-variants.json")):
            name, version = document.name[: -len("-variants.json")].rsplit("-", 1)
            releases.setdefault(Release(name, version), [])
        for release, wheels in sorted(releases.items(), key=lambda i: (i[0].name, i[0].version)):
            target = path / release.variants_json_name
            data = load(target) if target.exists() else None
            findings.extend(check_release(data, wheels, where=str(target)).findings)
    elif path.suffix == ".toml":
        findings.extend(_check_pyproject(path))
    else:
        findings.extend(check_release(load(path), [], where=str(path)).findings)
    report = CheckReport(tuple(findings))
    if args.format == "json":
        print_json(report.to_json())
    else:
        for finding in report.findings:
            print(finding)
        print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return 1 if report.failed else 0


def _check_pyproject(path: Any) -> list[Any]:
    from fitwheel.errors import InvalidVariantTable, UnknownBuildProperty
    from fitwheel.publish.check import check_variant_table
    from fitwheel.publish.table import load_variant_table
    from fitwheel.variants.check import Finding, Severity

    try:
        table = load_variant_table(path)
    except (InvalidVariantTable, UnknownBuildProperty) as exc:
        return [Finding(Severity.ERROR, str(path), str(exc))]
    return list(check_variant_table(table, where=str(path)).findings)
