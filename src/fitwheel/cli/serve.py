"""`fitwheel serve`: a resolving PEP 503/691 index in front of one or more upstream indexes;
`--status` / `--stop` for the shared proxies `fitwheel pip` / `fitwheel uv` start."""

from __future__ import annotations

import argparse
from typing import Any

from fitwheel.cli._common import (
    add_family_option,
    add_format_option,
    add_network_options,
    url_type,
)
from fitwheel.cli._logging import FORMATS, INFO


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: at least one connection")
    return value


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a resolving index: the best variant per release, for stock pip/uv",
        description="Serve /simple/ (PEP 503 HTML and PEP 691 JSON) whose project pages are the "
        "upstream's, except that among variant wheels only the best one for the profile is "
        "listed, under its label-less filename. Upstreams are asked in order and the first "
        "that has a project supplies all of it (see docs/serve.md). With --status or --stop: "
        "the shared proxies that `fitwheel pip` / `fitwheel uv` start and reuse.",
    )
    parser.add_argument(
        "--upstream",
        action="append",
        type=url_type(local=True),
        metavar="URL",
        help="upstream simple index URL or folder; repeat for more, highest precedence first "
        "(default: the indexes pip, else uv, is configured for, else PyPI; not with --status or --stop)",
    )
    shared = parser.add_mutually_exclusive_group()
    shared.add_argument(
        "--status",
        action="store_true",
        help="show the shared proxies of `fitwheel pip` / `fitwheel uv` that run for this "
        "user (pid, URL, profile, upstreams, idle time) and serve nothing",
    )
    shared.add_argument(
        "--stop",
        action="store_true",
        help="stop the shared proxies of `fitwheel pip` / `fitwheel uv` (and remove stale "
        "state files) and serve nothing",
    )
    shared.add_argument(
        "--shared",
        metavar="STATE",
        help="serve as the shared proxy that the state file STATE describes (what `fitwheel "
        "pip` / `fitwheel uv` start; not for use by hand)",
    )
    add_format_option(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--profile", metavar="FILE", help="serve for this profile (default: this machine)"
    )
    which.add_argument(
        "--profiles",
        metavar="DIR",
        help="serve each DIR/NAME.toml profile at /p/NAME/simple/ (a fleet of machines)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument(
        "--page-ttl",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="serve a resolved page this long before revalidating upstream (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="upstream page request timeout (default: %(default)s)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="also pass on file links to this host (a CDN); by default only the upstreams' own "
        "origins (and files.pythonhosted.org for PyPI); repeat for more",
    )
    parser.add_argument(
        "--file-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="answer 504 when an upstream file has not started answering after this long "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="close a connection that has not sent a whole request for this long "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=_at_least_one,
        metavar="N",
        help="connections held at once (default: what the file-descriptor limit allows)",
    )
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="stderr lines for people (text, the default: `fitwheel: GET /simple/x/ 200 ...`) "
        "or programs (json: one object per line, fixed keys); one line per request unless -q",
    )
    parser.add_argument(
        "--exit-when-idle",
        type=float,
        metavar="SECONDS",
        help="exit after this long without a request (default: serve until stopped)",
    )
    add_family_option(parser)
    add_network_options(parser)
    # A server's one line per request is its normal output: -q leaves warnings and errors.
    parser.set_defaults(func=run, log_level=INFO)


def run(args: argparse.Namespace) -> int:
    if args.status or args.stop:
        return _shared_proxies(args)
    if args.shared:
        from fitwheel.installers.shared.server import serve_shared

        return serve_shared(args.shared)
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    import os

    from fitwheel.cli._common import network_options
    from fitwheel.families import families_from
    from fitwheel.index.credentials import redact
    from fitwheel.installers.defaults import user_indexes
    from fitwheel.serve.app import ServeConfig, make_app
    from fitwheel.serve.limits import ConnectionLimits
    from fitwheel.serve.links import LinkPolicy
    from fitwheel.serve.profiles import fleet_profiles, single_profile
    from fitwheel.serve.proxy import serve_client_settings
    from fitwheel.serve.server import serve_forever
    from fitwheel.serve.upstreams import Upstreams

    network = network_options(args)
    upstreams = tuple(args.upstream or ())
    if not upstreams:
        found = user_indexes()
        upstreams = found.urls
        shown = " ".join(redact(url) for url in upstreams)
        _say(args, f"upstreams from {found.source}: {shown}", event="upstreams", urls=upstreams)
    LinkPolicy.for_upstreams(upstreams, args.allow_host)  # a bad --allow-host fails here
    profiles = fleet_profiles(args.profiles) if args.profiles else single_profile(args.profile)
    config = ServeConfig(
        upstreams=Upstreams(upstreams),
        profiles=profiles,
        page_ttl=args.page_ttl,
        client=serve_client_settings(args.timeout).with_network(network),
        allow_hosts=tuple(args.allow_host),
        answer_timeout=args.file_timeout,
        families=families_from(args.index_family, os.environ),
    )
    limits = ConnectionLimits(args.idle_timeout, args.max_connections)

    def ready(url: str) -> None:
        paths = ["/simple/"] if not args.profiles else [f"/p/{n}/simple/" for n in profiles]
        for path in paths:
            _say(args, f"{url}{path}", event="listening", url=f"{url}{path}")

    serve_forever(
        lambda: make_app(config),
        host=args.host,
        port=args.port,
        on_ready=ready,
        limits=limits,
        exit_when_idle=args.exit_when_idle,
    )
    return 0


def _say(args: argparse.Namespace, message: str, **fields: Any) -> None:
    """A line the server always prints (even with -q): `fitwheel serve: MESSAGE`, or with
    --log-format json one object with `event` and the other `fields`."""
    import sys

    line = f"fitwheel serve: {message}"
    if args.log_format == "json":
        import time

        from fitwheel.cli._log_lines import json_line

        line = json_line(time.time(), "info", "fitwheel.serve", line, fields)
    print(line, file=sys.stderr, flush=True)


def _shared_proxies(args: argparse.Namespace) -> int:
    """`--status` (text or JSON) or `--stop`, for this user's shared proxies."""
    from fitwheel.cli._common import print_json
    from fitwheel.installers.shared.control import statuses, stop
    from fitwheel.installers.shared.state import state_dir

    directory = state_dir()
    found = statuses(directory)
    if args.stop:
        done = [stop(status) for status in found]
        if args.format == "json":
            print_json(done)
        for line in done if args.format == "text" else ():
            print(f"fitwheel serve: {line}")
        if not done and args.format == "text":
            print(f"fitwheel serve: no shared proxy to stop (state in {directory})")
        return 0
    if args.format == "json":
        print_json([status.as_dict() for status in found])
        return 0
    if not found:
        print(f"no shared proxy (state in {directory})")
    for status in found:
        print(_status_text(status.as_dict()))
    return 0


def _status_text(status: dict[str, object]) -> str:
    if "key" not in status:
        return f"unreadable state file {status['state_file']} (--stop removes it)"
    if not status["running"]:
        return (
            f"stale: {status['url']} (pid {status['pid']} does not answer; --stop removes "
            f"{status['state_file']})"
        )
    upstreams = status["upstreams"]
    assert isinstance(upstreams, list)
    families = status["families"]
    assert isinstance(families, list)
    return "\n".join(
        [
            f"{status['url']}  pid {status['pid']}  idle {status['idle_seconds']} s "
            f"(exits after {status['exit_when_idle']:g} s)  fitwheel {status['fitwheel']}",
            f"  profile: {status['profile']}",
            f"  upstreams: {', '.join(map(str, upstreams))}",
            f"  index families: {', '.join(map(str, families)) or 'none'}",
            f"  log: {status['log']}",
        ]
    )
