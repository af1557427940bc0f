"""Helpers shared by the command modules (argument types, output)."""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def add_format_option(parser: Any) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output for people (text, the default) or programs (json)",
    )


def add_family_option(parser: Any) -> None:
    parser.add_argument(
        "--index-family",
        action="append",
        default=[],
        metavar="NAME[=URL]",
        help="take the family's projects from its per-accelerator indexes, choosing the "
        "build that fits (NAME: built-in 'pytorch' or a family TOML file; URL: the folder "
        "holding the members, e.g. cpu/ and cu126/); repeatable; default: "
        "$FITWHEEL_INDEX_FAMILIES",
    )
