"""Running an installer process, with signals forwarded; behind an ephemeral proxy (in a
thread of this process) when the shared one is not used."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from fitwheel.errors import InstallerNotFound

TYPE_CHECKING = False  # typing stays unimported on the way to the installer
if TYPE_CHECKING:
    from aiohttp import web

    from fitwheel.families import Family
    from fitwheel.index.network import NetworkOptions
    from fitwheel.profile import Profile
    from fitwheel.serve.proxy import Proxy
    from fitwheel.serve.record import ChosenBuild
    from fitwheel.serve.server import BackgroundServer

BuildCommand = Callable[[str], tuple[list[str], Mapping[str, str]]]
"""Proxy index URL -> (command line, environment)."""

UPSTREAM_TIMEOUT = 10.0
"""Seconds the ephemeral proxy waits for an upstream answer."""

_FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _spawn(command: Sequence[str], env: Mapping[str, str] | None) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(list(command), env=None if env is None else dict(env))
    except OSError as exc:
        raise InstallerNotFound(f"cannot run {command[0]!r}: {exc.strerror}") from None


@contextmanager
def _signals_forwarded(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """SIGINT from a terminal reaches the installer directly (same process group), so it is
    only kept from killing this process first; SIGTERM/SIGHUP/SIGQUIT are passed on."""

    def forward(signum: int, _frame: FrameType | None) -> None:
        if signum != signal.SIGINT:
            process.send_signal(signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; the caller's stay in charge
        return
    previous = {sig: signal.signal(sig, forward) for sig in (*_FORWARDED, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _status(code: int) -> int:
    """A shell's convention: 128 + N for a process killed by signal N."""
    return 128 - code if code < 0 else code


def run_command(
    command: Sequence[str],
    env: Mapping[str, str] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> int:
    """Run the installer in the foreground: output streams through; its exit status is returned.

    `meanwhile` runs in this process once the installer has started (preparing what comes
    after it, such as imports, while it works instead of after it)."""
    process = _spawn(command, env)
    with _signals_forwarded(process):
        if meanwhile is not None:
            meanwhile()
        return _status(process.wait())


@dataclass(frozen=True)
class ProxiedRun:
    """How the installer ended, the variant builds it was handed (one per project), the
    last upstream failure when it failed, and what the proxy chose for each release it listed
    (by project, then version) since `started` (`time.time()`)."""

    status: int
    upstream_failure: str | None
    chosen: tuple[ChosenBuild, ...] = ()
    offered: Mapping[str, Mapping[str, ChosenBuild]] = field(default_factory=dict)
    started: float = 0.0


def run_behind_proxy(
    upstreams: Sequence[str],
    profile: Callable[[], Profile],
    build: BuildCommand,
    *,
    families: Callable[[], Sequence[Family]] = tuple,
    network: NetworkOptions | None = None,
) -> ProxiedRun:
    """Start the proxy for `upstreams` on 127.0.0.1, run the installer against it, stop it.

    The socket is bound first and the installer started at once; the profile is detected (or
    read), the index families loaded, and the proxy (aiohttp and all) imported and started
    while the installer is still starting up, its first connections waiting in the listen
    backlog. If that fails, the
    installer is stopped and the error reported.
    """
    from fitwheel.serve.sockets import listening_socket, socket_url

    started = time.time()
    sock = listening_socket()
    command, env = build(socket_url(sock) + "/simple/")
    try:
        process = _spawn(command, env)
    except BaseException:
        sock.close()
        raise
    with _signals_forwarded(process):
        try:
            server, proxy = _start_proxy(upstreams, profile(), sock, families(), network)
        except BaseException:
            sock.close()
            process.terminate()
            process.wait()
            raise
        try:
            status = _status(process.wait())
        finally:
            server.stop()
    events = proxy.record.since(0)
    failure = events.failure if status != 0 else None
    return ProxiedRun(status, failure, events.chosen, events.offered, started)


def _start_proxy(
    upstreams: Sequence[str],
    profile: Profile,
    sock: socket.socket,
    families: Sequence[Family],
    network: NetworkOptions | None = None,
) -> tuple[BackgroundServer, Proxy]:
    from fitwheel.serve.app import DEFAULT_PROFILE, PROXY_KEY, ServeConfig, make_app
    from fitwheel.serve.proxy import serve_client_settings
    from fitwheel.serve.server import BackgroundServer
    from fitwheel.serve.upstreams import Upstreams

    # Answer before the installer gives up on us (pip waits 15 s by default), with an error
    # that names the upstream; the installer's own retries stand in for the client's.
    settings = serve_client_settings(UPSTREAM_TIMEOUT).with_retries(0)
    if network is not None:
        network.ssl_context()  # a bad CA bundle or client certificate fails here, in one line
        settings = settings.with_network(network)
    config = ServeConfig(
        Upstreams(tuple(upstreams)),
        {DEFAULT_PROFILE: profile},
        client=settings,
        families=tuple(families),
    )
    apps: list[web.Application] = []

    def factory() -> web.Application:
        apps.append(make_app(config))
        return apps[-1]

    server = BackgroundServer(factory, sock=sock)
    server.start()
    return server, apps[0][PROXY_KEY]
