"""Where fitwheel's log lines go: stderr, one format, as much detail as -v / -q ask for.

Each `-v` shows one more level of detail than the command's default, each `-q` one less:
warnings are shown by default (a server's one line per request too), `-v` adds what fitwheel
is doing, `-vv` the debugging lines (which name their logger), `-q` leaves errors only. The
library logs through `logging.getLogger(__name__)` and never prints; this module is the only
place that decides where its records go.

`logging` is imported only when `configure` runs: `fitwheel detect` without `-v` never needs
it, and it costs a few milliseconds of a command that runs before every install.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
"""`logging`'s levels, without importing it."""

FLAGS: dict[str, int] = {
    "-v": 1,
    "-vv": 2,
    "-vvv": 3,
    "--verbose": 1,
    "-q": -1,
    "-qq": -2,
    "-qqq": -3,
    "--quiet": -1,
}
"""The verbosity options and how far each moves the level."""

FORMATS = ("text", "json")


def leading(arguments: Sequence[str]) -> tuple[int, bool, list[str]]:
    """(verbosity, --debug given, the rest) for `fitwheel [-v|-q|--debug]... COMMAND ...`."""
    rest = list(arguments)
    verbosity, debug = 0, False
    while rest and (rest[0] in FLAGS or rest[0] == "--debug"):
        flag = rest.pop(0)
        if flag == "--debug":
            debug = True
        else:
            verbosity += FLAGS[flag]
    return verbosity, debug, rest


def add_options(parser: Any) -> None:
    """`-v` / `-q` on a parser (each counts; those it defines already are left alone)."""
    known = {o for action in parser._actions for o in action.option_strings}
    if "-v" not in known:
        parser.add_argument(
            "-v",
            "--verbose",
            action="count",
            default=0,
            help="show more: what fitwheel is doing; repeat for debugging lines (-vv), and those of the libraries under it (-vvv)",
        )
    if "-q" not in known:
        parser.add_argument(
            "-q",
            "--quiet",
            action="count",
            default=0,
            help="show less: errors only (no warnings, no progress)",
        )


def level(verbosity: int, default: int = WARNING) -> int:
    """The lowest level shown: `default` moved one step per -v (down) or -q (up)."""
    return min(max(default - 10 * verbosity, DEBUG), ERROR)


def configure(verbosity: int, *, default: int = WARNING, log_format: str = "text") -> None:
    """Send fitwheel's records (and warnings of the libraries under it) to stderr."""
    import logging
    import sys

    from fitwheel.cli._log_lines import JsonLines, Text

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER]:
        root.removeHandler(old)  # configured before (fitwheel.cli.main called again)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER)
    handler.setFormatter(JsonLines() if log_format == "json" else Text())
    root.addHandler(handler)
    shown = level(verbosity, default)
    # Other libraries (aiohttp, asyncio): warnings; errors only when quiet; their debugging
    # lines one -v after fitwheel's own.
    others = level(verbosity - 1, default)
    root.setLevel(DEBUG if others <= DEBUG and shown <= DEBUG else max(shown, WARNING))
    logging.getLogger("fitwheel").setLevel(shown)


_HANDLER = "fitwheel.cli"


def show_progress(verbosity: int) -> None:
    """Progress of slow steps on stderr when it is a terminal or -v asks, never under -q;
    redrawn in place on a terminal, one line each otherwise; no colour.
    `FITWHEEL_PROGRESS_AFTER` (seconds, default 1) is how long a step runs before it shows."""
    import os
    import sys

    tty = sys.stderr.isatty()
    if verbosity < 0 or not (tty or verbosity > 0):
        return  # nothing installed: nothing is shown (and nothing more imported)

    from fitwheel import progress

    try:
        progress.AFTER = float(os.environ.get("FITWHEEL_PROGRESS_AFTER", "1"))
    except ValueError:
        progress.AFTER = 1.0
    width = [0]

    def display(line: str, last: bool) -> None:
        text = f"fitwheel: {line}"
        if tty:
            # Padded over the longer line drawn before; a finished step keeps its line.
            sys.stderr.write("\r" + text.ljust(width[0]) + ("\n" if last else ""))
            width[0] = 0 if last else len(text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    progress.show_with(display)
