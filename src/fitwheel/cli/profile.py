"""`fitwheel profile capture|show`: write this machine's profile; read one back."""

from __future__ import annotations

import argparse

from fitwheel.cli._common import add_format_option
from fitwheel.cli.detect import add_probe_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="capture this machine's profile, or show a profile file",
        description="A profile describes a target machine (interpreter, supported variant "
        "properties, raw facts) so that installs and locks can be made for it elsewhere.",
    )
    actions = parser.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    capture = actions.add_parser("capture", help="probe this machine and write its profile")
    capture.add_argument(
        "-o", "--output", metavar="FILE", help="write here (.json: JSON, else TOML); default stdout"
    )
    add_probe_options(capture)
    capture.set_defaults(func=run_capture)
    show = actions.add_parser("show", help="show what a profile file supports")
    show.add_argument(
        "file",
        metavar="FILE",
        help="a profile file (TOML, or JSON from `fitwheel detect --format json`)",
    )
    add_format_option(show)
    show.set_defaults(func=run_show)


def run_capture(args: argparse.Namespace) -> int:
    from fitwheel.detect import detect

    profile = detect(
        sysroot=args.sysroot, timeout=args.timeout, use_cache=not args.no_cache, profile=""
    )
    from fitwheel.profile import dump_profile_json, dump_profile_toml

    output: str | None = args.output
    text = dump_profile_json(profile) if output and output.endswith(".json") else None
    if text is None:
        text = dump_profile_toml(profile)
    if output:
        from pathlib import Path

        from fitwheel.files import write_atomically

        write_atomically(Path(output), text.encode())
    else:
        print(text, end="")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from fitwheel.cli.detect import render_text
    from fitwheel.detect import profile_document

    document = profile_document(args.file)
    if args.format == "json":
        import json

        print(json.dumps(document, indent=2))
    else:
        print(render_text(document, heading="fitwheel profile show"), end="")
    return 0
