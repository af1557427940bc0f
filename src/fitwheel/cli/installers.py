"""`fitwheel pip ...` and `fitwheel uv ...`: the real installer, choosing variant builds.

Every argument after `pip` / `uv` goes to the installer verbatim, except fitwheel's own
`--profile FILE` when it comes first: `fitwheel pip --profile h100.toml install torch`,
`fitwheel uv --profile h100.toml pip install torch`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fitwheel.installers.proxy import ProxiedRun


def add_parser(subparsers: Any) -> None:
    for name, example in (("pip", "install torch"), ("uv", "pip install torch")):
        parser = subparsers.add_parser(
            name,
            help=f"run {name} with the build of each package that fits the machine",
            description=f"Run `{name} ARGS...` against an ephemeral resolving index in front of "
            f"the indexes {name} would use. Example: fitwheel {name} {example}; for another "
            f"machine: fitwheel {name} --profile FILE {example}.",
            # Everything, options included, belongs to the installer: no option of ours is
            # recognised by argparse ('+' never starts an argument).
            prefix_chars="+",
            add_help=False,
        )
        parser.add_argument("installer_args", nargs=argparse.REMAINDER)
        parser.set_defaults(func=run, installer=name)


def parsed_arguments(installer: str, installer_args: Sequence[str]) -> argparse.Namespace:
    """What the full parser gives for `fitwheel pip|uv ARGS...` (the fast path of `main`)."""
    return argparse.Namespace(
        debug=False,
        command=installer,
        installer_args=list(installer_args),
        func=run,
        installer=installer,
    )


def split_profile(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """Take a leading `--profile FILE` / `--profile=FILE` off the installer's arguments."""
    rest = list(args)
    if rest[:1] == ["--profile"] and len(rest) > 1:
        return rest[1], rest[2:]
    if rest and rest[0].startswith("--profile="):
        return rest[0].partition("=")[2], rest[1:]
    return None, rest


def run(args: argparse.Namespace) -> int:
    from fitwheel.detect import detect
    from fitwheel.installers.proxy import run_behind_proxy, run_command

    profile_path, installer_args = split_profile(args.installer_args)
    if args.installer == "pip":
        from fitwheel.installers import pip

        pip_plan = pip.plan(installer_args)
        if not pip_plan.proxied:
            return run_command(pip.pip_argv(pip_plan.args))
        with _scratch(pip_plan.reads_files) as scratch:
            run = run_behind_proxy(
                pip_plan.upstreams,
                lambda: detect(profile=profile_path),
                lambda url: pip.proxied_command(pip_plan, url, scratch),
            )
        return _finished(_reported(run, "pip", installer_args))
    from fitwheel.installers import uv

    uv_plan = uv.plan(installer_args)
    if not uv_plan.proxied:
        return run_command([uv.uv_binary(), *uv_plan.args])
    run = run_behind_proxy(
        uv_plan.upstreams,
        lambda: detect(profile=profile_path),
        lambda url: uv.proxied_command(uv_plan, url),
    )
    return _finished(_reported(run, "uv", installer_args))


def _reported(run: ProxiedRun, installer: str, installer_args: Sequence[str]) -> int:
    """The installer's status, after naming each variant build it was handed (unless the
    installer was asked to be quiet) and the upstream failure behind a failed run."""
    import sys

    quiet = any(a in ("-q", "--quiet", "-qq", "-qqq") for a in installer_args)
    if not quiet:
        for build in run.chosen:
            print(f"fitwheel: {build}", file=sys.stderr)
    if run.upstream_failure is not None:
        message = f"{installer} could not use an index: {run.upstream_failure}"
        print(f"fitwheel: error: {message}", file=sys.stderr)
    return run.status


@contextmanager
def _scratch(needed: bool) -> Iterator[Path | None]:
    """A temporary folder for the installer's run, when one is needed."""
    if not needed:
        yield None
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fitwheel-") as folder:
        yield Path(folder)


def _finished(status: int) -> int:
    """Exit at once with `status` when this process is the `fitwheel` command itself.

    The installer has exited and the server is stopped, its sockets closed, by now; what is
    left is the interpreter tearing down aiohttp and the rest, measured at 60-90 ms against
    5-8 ms this way (2-core VM), a fifth of a small `fitwheel uv` install. Our own buffered
    output is flushed first (the installer wrote to the terminal directly). Called from
    Python (`fitwheel.cli.main([...])` in another program), the status is returned as usual.
    """
    import os
    import sys
    from contextlib import suppress

    entry = os.path.basename(sys.argv[0]) if sys.argv else ""
    if entry in ("fitwheel", "__main__.py") and "fitwheel" in sys.argv[0]:
        for stream in (sys.stdout, sys.stderr):
            # A closed pipe takes no more output; the exit status must still be the right one.
            with suppress(OSError, ValueError):
                stream.flush()
        os._exit(status)
    return status
