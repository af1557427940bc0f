"""`fitwheel detect`: what this interpreter and machine support (placeholder until the probe lands)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="show what this interpreter and machine support",
        description="Probe the interpreter and hardware and print the resulting profile.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import platform
    import sys

    facts = {
        "implementation": sys.implementation.name,
        "python_version": platform.python_version(),
        "pointer_bits": 8 * __import__("struct").calcsize("P"),
    }
    if args.format == "json":
        print(json.dumps({"interpreter": facts, "variants": {}, "facts": {}}, indent=2))
    else:
        for key, value in facts.items():
            print(f"{key}: {value}")
    return 0
