"""`fitwheel pip ...` and `fitwheel uv ...`: the real installer, choosing variant builds.

Every argument after `pip` / `uv` goes to the installer verbatim, except fitwheel's own
`--profile FILE`, `--index-family NAME[=URL]` (repeatable) and `--ephemeral` when they
come first: `fitwheel pip --profile h100.toml install torch`, `fitwheel uv --index-family
pytorch=https://mirror/whl/ pip install torch`; and, there too, how the proxy reaches the
upstreams: `--cert FILE`, `--client-cert FILE`, `--proxy URL`, `--keyring-provider NAME`
(pip's own `--cert`, `--client-cert`, `--proxy`, `--trusted-host` and `--keyring-provider`, and
its `PIP_*` and configuration settings for them, are followed as well; fitwheel's win).
fitwheel's -v / -q go before `pip` / `uv` (`fitwheel -q pip install torch`): after it, they
are the installer's.

The installer runs against this user's shared proxy for what it needs (started on first use,
reused while it runs: `fitwheel.installers.shared`), or, with `--ephemeral`,
`FITWHEEL_EPHEMERAL=1` or a cache folder that cannot be written, against an ephemeral one in
a thread of this process.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

# argparse and typing stay unimported on the way to the installer (about 15 ms of start-up).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import Any

    from fitwheel.families import Family
    from fitwheel.index.network import NetworkOptions
    from fitwheel.installers.proxy import BuildCommand, ProxiedRun

EPHEMERAL_ENV = "FITWHEEL_EPHEMERAL"
_TRUE = ("1", "true", "yes", "on")

_NETWORK = ("--cert", "--client-cert", "--proxy", "--keyring-provider")
"""fitwheel's own network options in front of the installer's arguments."""


def add_parser(subparsers: Any) -> None:
    import argparse

    for name, example in (("pip", "install torch"), ("uv", "pip install torch")):
        parser = subparsers.add_parser(
            name,
            help=f"run {name} with the build of each package that fits the machine",
            description=f"Run `{name} ARGS...` against a resolving index in front of the "
            f"indexes {name} would use: this user's shared proxy (see `fitwheel serve "
            f"--status`), or an ephemeral one with --ephemeral first. Example: fitwheel {name} "
            f"{example}; for another machine: fitwheel {name} --profile FILE {example}.",
            # Everything, options included, belongs to the installer: no option of ours is
            # recognised by argparse ('+' never starts an argument).
            prefix_chars="+",
            add_help=False,
            epilog=own_options_help(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument(
            "installer_args",
            nargs=argparse.REMAINDER,
            metavar="ARGS",
            help=f"{name}'s arguments, passed on unchanged (`fitwheel {name} --help` shows "
            f"{name}'s own help after fitwheel's)",
        )
        parser.set_defaults(func=run, installer=name)


def parsed_arguments(installer: str, installer_args: Sequence[str]) -> argparse.Namespace:
    """What the full parser gives for `fitwheel pip|uv ARGS...` (the fast path of `main`)."""
    from types import SimpleNamespace

    return SimpleNamespace(  # type: ignore[return-value]
        debug=False,
        verbose=0,
        quiet=0,
        command=installer,
        installer_args=list(installer_args),
        func=run,
        installer=installer,
    )


OWN_OPTIONS: tuple[tuple[str, str], ...] = (
    ("--profile FILE", "choose builds for the machine described by FILE (a profile from "
     "`fitwheel profile capture` or `fitwheel detect --format json`) instead of this one; "
     "FITWHEEL_PROFILE=FILE does the same"),
    ("--index-family NAME[=URL]", "an index family (per-accelerator indexes such as "
     "PyTorch's whl/cu126, ...) whose members are one release's builds; URL: a mirror of its "
     "base; or a TOML file describing one; repeatable; FITWHEEL_INDEX_FAMILIES too"),
    ("--cert FILE", "CA bundle the proxy verifies the upstreams with (default: pip's --cert "
     "or PIP_CERT, else SSL_CERT_FILE and the like, else the system trust store)"),
    ("--client-cert FILE", "client certificate for the upstreams: one PEM file with the "
     "certificate and its key (default: pip's --client-cert)"),
    ("--proxy URL", "HTTP proxy for the upstreams (default: pip's --proxy, else HTTPS_PROXY "
     "and the like; NO_PROXY holds)"),
    ("--keyring-provider NAME", "auto, disabled, import or subprocess: where the proxy finds "
     "a login after a 401 (default: pip's or uv's setting, else auto); see docs/networks.md"),
    ("--ephemeral", "run a proxy of this run's own instead of this user's shared one (see "
     "`fitwheel serve --status`); FITWHEEL_EPHEMERAL=1 does the same"),
)  # fmt: skip
"""fitwheel's own options of `fitwheel pip|uv`: given before the installer's arguments."""


def own_options_help() -> str:
    """fitwheel's options of `fitwheel pip|uv`, as a help section."""
    import textwrap

    lines = ["fitwheel options (before the installer's arguments):"]
    for name, text in OWN_OPTIONS:
        lines.append(f"  {name}")
        lines.extend(f"      {line}" for line in textwrap.wrap(text, 72))
    return "\n".join(lines)


def wrapper_help(installer: str) -> str:
    """fitwheel's part of `fitwheel pip --help`; the installer's own help follows it."""
    import textwrap

    example = "install torch" if installer == "pip" else "pip install torch"
    lines = [
        f"usage: fitwheel {installer} [FITWHEEL OPTIONS] {installer.upper()} ARGUMENTS...",
        "",
        *textwrap.wrap(
            f"Runs {installer} with the indexes it would use replaced by fitwheel's resolving "
            "proxy, so each package gets the build that fits the machine.",
            78,
        ),
        f"Example: fitwheel {installer} {example}",
        "",
        own_options_help(),
        "",
        *textwrap.wrap(
            f"fitwheel's -v / -q go before `{installer}`: `fitwheel -q {installer} {example}` "
            f"silences fitwheel's lines, `fitwheel -v {installer} ...` adds the proxy's line per "
            f"request; after `{installer}` they are {installer}'s own.",
            78,
        ),
        "",
        f"{installer}'s own help follows.",
        "-" * 72,
    ]
    return "\n".join(lines)


def _asks_for_help(args: Sequence[str]) -> bool:
    before = args[: args.index("--")] if "--" in args else args
    return any(a in ("-h", "--help") for a in before)


@dataclass(frozen=True)
class WrapperOptions:
    """fitwheel's own options in front of the installer's arguments, and those arguments."""

    profile: str | None
    families: tuple[str, ...]
    rest: list[str]
    network: tuple[tuple[str, str], ...] = ()
    """(option, value) of fitwheel's own network options given."""
    ephemeral: bool = False


def split_options(args: Sequence[str]) -> WrapperOptions:
    """Take leading `--profile FILE`, `--index-family SPEC`, the network options (`--opt=value`
    too) and `--ephemeral` off."""
    rest = list(args)
    profile, families, ephemeral = None, [], False
    network: list[tuple[str, str]] = []
    while rest:
        if rest[0] == "--ephemeral":
            ephemeral, rest = True, rest[1:]
            continue
        name, eq, value = rest[0].partition("=")
        if name not in ("--profile", "--index-family", *_NETWORK):
            break
        if not eq:
            if len(rest) < 2:
                break
            value = rest[1]
        rest = rest[1:] if eq else rest[2:]
        if name == "--profile":
            profile = value
        elif name == "--index-family":
            families.append(value)
        else:
            network.append((name, value))
    return WrapperOptions(profile, tuple(families), rest, tuple(network), ephemeral)


def _network(
    given: Sequence[tuple[str, str]],
    *,
    cert: str | None = None,
    client_cert: str | None = None,
    proxy: str | None = None,
    keyring_provider: str | None = None,
    trusted_hosts: tuple[str, ...] = (),
) -> NetworkOptions:
    """The proxy's network options: fitwheel's own (`given`), else the installer's settings,
    else the environment."""
    import os

    from fitwheel.index.network import NetworkOptions

    mine = dict(given)
    return NetworkOptions.from_environment(
        os.environ,
        cert=mine.get("--cert", cert),
        client_cert=mine.get("--client-cert", client_cert),
        proxy=mine.get("--proxy", proxy),
        keyring_provider=mine.get("--keyring-provider", keyring_provider),
        trusted_hosts=trusted_hosts,
    )


def run(args: argparse.Namespace) -> int:
    from fitwheel.installers.proxy import run_command

    options = split_options(args.installer_args)
    installer_args = options.rest
    if _asks_for_help(installer_args) or not installer_args:
        print(wrapper_help(args.installer), flush=True)
        if args.installer == "pip":
            from fitwheel.installers.pip import pip_argv

            return run_command(pip_argv(installer_args or ["--help"]))
        from fitwheel.installers.uv import uv_binary

        return run_command([uv_binary(), *(installer_args or ["--help"])])
    if args.installer == "pip":
        from fitwheel.installers import pip

        pip_plan = pip.plan(installer_args)
        if not pip_plan.proxied:
            return run_command(pip.pip_argv(pip_plan.args))
        settings = pip_plan.network
        network = _network(
            options.network,
            cert=settings.cert,
            client_cert=settings.client_cert,
            proxy=settings.proxy,
            keyring_provider=settings.keyring_provider,
            trusted_hosts=settings.trusted_hosts,
        )
        with _scratch(pip_plan.reads_files) as scratch:
            run = _proxied(
                options,
                pip_plan.upstreams,
                lambda url: pip.proxied_command(pip_plan, url, scratch),
                network,
                _verbose(args),
            )
        return _finished(_reported(run, "pip", installer_args, args.verbosity))
    from fitwheel.installers import uv

    uv_plan = uv.plan(installer_args)
    if not uv_plan.proxied:
        return run_command([uv.uv_binary(), *uv_plan.args])
    network = _network(
        options.network,
        keyring_provider=uv_plan.keyring_provider,
        trusted_hosts=uv_plan.insecure_hosts,
    )

    def build(url: str) -> tuple[list[str], dict[str, str]]:
        return uv.proxied_command(uv_plan, url)

    run = _proxied(options, uv_plan.upstreams, build, network, _verbose(args))
    return _finished(_reported(run, "uv", installer_args, args.verbosity))


def _verbose(args: argparse.Namespace) -> bool:
    """fitwheel's own -v was given (`fitwheel -v pip ...`)."""
    return bool(getattr(args, "verbosity", 0) > 0)


def _proxied(
    options: WrapperOptions,
    upstreams: Sequence[str],
    build: BuildCommand,
    network: NetworkOptions,
    verbose: bool = False,
) -> ProxiedRun:
    """The installer run behind the shared proxy, else behind an ephemeral one: asked for,
    where the shared one cannot be, and with fitwheel's -v (the proxy's line per request then
    shows in this run's output; the shared proxy's go to its log)."""
    import os
    import sys

    from fitwheel.installers.families import default_families

    defaults = default_families(upstreams)
    ephemeral = options.ephemeral or os.environ.get(EPHEMERAL_ENV, "").lower() in _TRUE
    ephemeral = ephemeral or verbose or sys.platform == "win32"  # the shared one's locks: flock
    if not ephemeral:
        from fitwheel.installers.shared.run import run_behind_shared_proxy, usable_state_dir
        from fitwheel.installers.shared.start import Wanted

        directory = usable_state_dir(os.environ)
        if directory is not None:
            wanted = Wanted(tuple(upstreams), options.profile, options.families, defaults, network)
            return run_behind_shared_proxy(directory, wanted, build, meanwhile=_prepare_report)
    from fitwheel.detect import detect
    from fitwheel.installers.proxy import run_behind_proxy

    return run_behind_proxy(
        upstreams,
        lambda: detect(profile=options.profile),
        build,
        families=lambda: _families(options.families, defaults),
        network=network,
    )


def _prepare_report() -> None:
    """Import what the report after the installer needs (reading installed builds back, with
    packaging) while the installer runs: a warm `fitwheel uv` is otherwise that much longer."""
    import fitwheel.installers.outcome  # noqa: F401


def _families(given: Sequence[str], defaults: Sequence[str]) -> tuple[Family, ...]:
    """The index families for this run: given, from the environment, or the default; loaded
    while the installer starts, like the profile."""
    import os

    from fitwheel.families import families_from

    return families_from(given, os.environ, default=defaults)


def _reported(
    run: ProxiedRun, installer: str, installer_args: Sequence[str], verbosity: int
) -> int:
    """The installer's status, after naming each variant build it installed (unless fitwheel
    or the installer was asked to be quiet: `fitwheel -q pip ...`, `fitwheel pip install -q`),
    warning of any build that is not the one this machine gets, and giving the upstream
    failure behind a failed run."""
    import os
    import sys

    from fitwheel.installers.outcome import environment, hashes_pinned, outcome

    quiet = verbosity < 0 or any(a in ("-q", "--quiet", "-qq", "-qqq") for a in installer_args)
    paths = None
    if run.status == 0 and run.offered:
        paths = environment(installer, installer_args, os.environ)
    report = outcome(run.offered, run.chosen, paths, run.started)
    if not quiet:
        for line in report.chosen:
            print(f"fitwheel: {line}", file=sys.stderr)
    for line in report.mismatched:
        print(f"fitwheel: warning: {line}", file=sys.stderr)
    if run.upstream_failure is not None:
        message = f"{installer} could not use an index: {run.upstream_failure}"
        print(f"fitwheel: error: {message}", file=sys.stderr)
    elif run.status != 0 and run.offered and hashes_pinned(installer_args):
        print(
            "fitwheel: hint: if the installer reported a hash mismatch: the pinned hashes name "
            "another machine's build; this machine gets "
            + ", ".join(sorted(_labels(run)))
            + ". Keep one lock or hashed requirements file per profile (see docs/lock.md).",
            file=sys.stderr,
        )
    return run.status


def _labels(run: ProxiedRun) -> set[str]:
    """Per project, the build its newest listed release gets."""
    from packaging.version import Version

    newest = (
        max(builds.values(), key=lambda b: Version(b.version)) for builds in run.offered.values()
    )
    return {f"{build.project} {build.label}" for build in newest}


@contextmanager
def _scratch(needed: bool) -> Iterator[Path | None]:
    """A temporary folder for the installer's run, when one is needed."""
    if not needed:
        yield None
        return
    import tempfile
    from pathlib import Path

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
