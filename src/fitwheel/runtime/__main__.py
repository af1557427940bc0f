"""`python -m fitwheel.runtime PACKAGE...`: print which build each fat package loaded, and why."""

import argparse
import json
import sys

from . import explain


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}",
        description="Import each package and report which build its fat wheel loaded, and why.",
    )
    parser.add_argument("packages", nargs="+", metavar="PACKAGE")
    parser.add_argument("--json", action="store_true", help="print a JSON object per package")
    args = parser.parse_args(argv)
    status = 0
    for package in args.packages:
        try:
            choice = explain(package)
        except (ImportError, LookupError) as exc:
            print(f"{package}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(json.dumps(choice.as_dict(), indent=2) if args.json else choice)
    return status


if __name__ == "__main__":
    sys.exit(main())
