"""The `fitwheel` command: a thin shell over the importable API.

Each subcommand lives in its own module of this package with two functions:
`add_parser(subparsers)` (argument definitions only, cheap to import) and `run(args) -> int`.
Modules import their heavy dependencies inside `run`, so `fitwheel detect` stays fast.
"""

from __future__ import annotations

import sys

from fitwheel._version import __version__
from fitwheel.cli._logging import WARNING, add_options, configure, leading, show_progress
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
    add_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command whose module is not written yet
        module.add_parser(subparsers)
    for command in subparsers.choices.values():
        _add_verbosity(command)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    """-v / -q after the command's name too (on the commands that run: the leaves)."""
    import argparse

    if parser.prefix_chars != "-":
        return  # `fitwheel pip` / `fitwheel uv`: every option there is the installer's
    commands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not commands:
        add_options(parser)
    for action in commands:
        for command in action.choices.values():
            _add_verbosity(command)


def main(argv: Sequence[str] | None = None) -> int:
    # -v / -q / --debug before the command are taken off first, so that the fast paths below
    # see the command's name.
    verbosity, debug, arguments = leading(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["detect"]:
        # Fast path without argparse; None means --help or something only argparse handles.
        from fitwheel.cli.detect import run_fast

        code = run_fast(arguments[1:], verbosity)
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
    args.debug = args.debug or debug
    args.verbosity = verbosity + getattr(args, "verbose", 0) - getattr(args, "quiet", 0)
    configure(
        args.verbosity,
        default=getattr(args, "log_level", WARNING),
        log_format=getattr(args, "log_format", "text"),
    )
    show_progress(args.verbosity)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    """The command's status; an error is one line (the traceback only with --debug)."""
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
