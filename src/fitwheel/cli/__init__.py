"""The `fitwheel` command: a thin shell over the importable API.

Each subcommand lives in its own module of this package with two functions:
`add_parser(subparsers)` (argument definitions only, cheap to import) and `run(args) -> int`.
Modules import their heavy dependencies inside `run`, so `fitwheel detect` stays fast.
"""

from __future__ import annotations

import sys

from fitwheel._version import __version__
from fitwheel.errors import FitwheelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

# Order here is the order in `fitwheel --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "fitwheel.cli.detect",
    "fitwheel.cli.profile",
    "fitwheel.cli.rank",
    "fitwheel.cli.variants",
    "fitwheel.cli.wheel",
    "fitwheel.cli.index",
    "fitwheel.cli.explain",
    "fitwheel.cli.serve",
    "fitwheel.cli.installers",
    "fitwheel.cli.verify",
    "fitwheel.cli.lock",
    "fitwheel.cli.sync",
    "fitwheel.cli.build_flags",
    "fitwheel.cli.build",
)

EXIT_OK = 0
EXIT_NEGATIVE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    # Imported here: `fitwheel detect` runs on every install and skips argparse entirely.
    import argparse
    import importlib

    parser = argparse.ArgumentParser(
        prog="fitwheel",
        description="Choose and install the build of a Python package that fits the machine "
        "(wheel variants, PEP 825).",
    )
    parser.add_argument("--version", action="version", version=f"fitwheel {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command whose module is not written yet
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["detect"]:
        # Fast path without argparse; None means --help or something only argparse handles.
        from fitwheel.cli.detect import run_fast

        code = run_fast(arguments[1:])
        if code is not None:
            return code
    if arguments[:1] in (["pip"], ["uv"]):
        # Every later argument belongs to the installer, so there is nothing to parse: skip
        # building the whole parser (every command module) in front of each install.
        from fitwheel.cli.installers import parsed_arguments

        args = parsed_arguments(arguments[0], arguments[1:])
    else:
        parser = build_parser()
        args = parser.parse_args(arguments)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
    try:
        return int(args.func(args))
    except FitwheelError as exc:
        if args.debug:
            raise
        print(f"fitwheel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        # A bug, not bad input: one line that says so, never a bare traceback.
        if args.debug:
            raise
        print(
            f"fitwheel: internal error: {type(exc).__name__}: {exc} (fitwheel {__version__}); "
            "please report it with the output of `fitwheel --debug ...`",
            file=sys.stderr,
        )
        return EXIT_USAGE
