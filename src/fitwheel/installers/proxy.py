"""Running an installer process behind an ephemeral proxy, with signals forwarded."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from fitwheel.errors import InstallerNotFound
from fitwheel.profile import Profile

if TYPE_CHECKING:
    from aiohttp import web

BuildCommand = Callable[[str], tuple[list[str], Mapping[str, str]]]
"""Proxy index URL -> (command line, environment)."""

_FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def run_command(command: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run the installer in the foreground: output streams through; its exit status is returned.

    SIGINT from a terminal reaches the installer directly (same process group), so this
    process only waits for it to finish; SIGTERM/SIGHUP/SIGQUIT sent to this process are
    passed on, so stopping `fitwheel pip` stops pip.
    """
    try:
        process = subprocess.Popen(list(command), env=None if env is None else dict(env))
    except OSError as exc:
        raise InstallerNotFound(f"cannot run {command[0]!r}: {exc.strerror}") from None

    def forward(signum: int, _frame: FrameType | None) -> None:
        if signum != signal.SIGINT:
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (*_FORWARDED, signal.SIGINT)}
    try:
        status = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - status if status < 0 else status


def run_behind_proxy(
    upstreams: Sequence[str], profile: Profile, build: BuildCommand, *, installer: str
) -> int:
    """Start the proxy for `upstreams` on 127.0.0.1, run the installer against it, stop it."""
    from fitwheel.serve.app import DEFAULT_PROFILE, PROXY_KEY, ServeConfig, make_app
    from fitwheel.serve.server import BackgroundServer
    from fitwheel.serve.upstreams import Upstreams

    config = ServeConfig(upstreams=Upstreams(tuple(upstreams)), profiles={DEFAULT_PROFILE: profile})
    apps: list[web.Application] = []

    def factory() -> web.Application:
        apps.append(make_app(config))
        return apps[-1]

    with BackgroundServer(factory) as server:
        command, env = build(server.url + "/simple/")
        status = run_command(command, env)
    failures = apps[0][PROXY_KEY].failures if apps else []
    if status != 0 and failures:
        print(
            f"fitwheel: error: {installer} could not use an index: {failures[-1]}", file=sys.stderr
        )
    return status
