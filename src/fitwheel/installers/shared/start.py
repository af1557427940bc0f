"""Finding the shared proxy a run needs, or starting it.

A wrapper holds `KEY.users` (shared) for its whole run, reads the state file and asks the
proxy at its port who it is (`client.hello`): a proven answer means it is running and serves
this key. Otherwise the wrapper takes `KEY.start` (exclusive), asks again (another wrapper may
have just started it), and else starts it: it detects (or reads) the profile and loads the
index families, so that a bad one is one error line here; binds 127.0.0.1 on the key's stable
port (a free one if that is taken); writes the state file; and starts `fitwheel serve --shared
STATE` in a session of its own, with the listening socket passed on and its output going to
`KEY.log`. The installer can connect at once: its connections wait in the listen backlog
while the proxy imports aiohttp, as with an ephemeral proxy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from fitwheel._version import __version__
from fitwheel.errors import SharedProxyError
from fitwheel.installers.shared.client import hello
from fitwheel.installers.shared.key import stable_port
from fitwheel.installers.shared.state import (
    LOOPBACK,
    ProxyState,
    locked,
    network_document,
    read_state,
    start_lock,
    state_path,
    write_state,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fitwheel.index.network import NetworkOptions

IDLE_EXIT_ENV = "FITWHEEL_PROXY_IDLE_EXIT"
DEFAULT_IDLE_EXIT = 900.0
"""Seconds without a request after which a shared proxy exits (15 minutes)."""
_FITWHEEL = (sys.executable, "-m", "fitwheel")
HELLO_TIMEOUT = 20.0
"""Seconds to wait for the answer of a proxy started a moment ago: it answers once it is up."""
SETTLED_HELLO_TIMEOUT = 3.0
"""Seconds to wait for the answer of one that has been up for a while (`SETTLED` seconds): a
silent listener on a stale state's port must not hold every run for long."""
SETTLED = 60.0


@dataclass(frozen=True)
class Wanted:
    """What a run needs its proxy to serve, and how the proxy reaches the upstreams."""

    upstreams: tuple[str, ...]
    profile: str | None
    families: tuple[str, ...]
    default_families: tuple[str, ...]
    network: NetworkOptions | None = None


@dataclass(frozen=True)
class Running:
    """A proxy that proved itself, and the number of its last event when this run began."""

    state: ProxyState
    seq: int


def idle_exit(env: Mapping[str, str]) -> float:
    """`FITWHEEL_PROXY_IDLE_EXIT` (seconds), else 15 minutes."""
    text = env.get(IDLE_EXIT_ENV, "").strip()
    if not text:
        return DEFAULT_IDLE_EXIT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 1e9:
        raise SharedProxyError(f"{IDLE_EXIT_ENV}={text!r}: give a number of seconds above 0")
    return seconds


def running(directory: Path, key: str) -> Running | None:
    """The proxy for `key` if its state file names one that answers with proof."""
    state = read_state(state_path(directory, key))
    if state is None or state.pid is None:
        return None
    settled = time.time() - state.started > SETTLED
    answer = hello(state, SETTLED_HELLO_TIMEOUT if settled else HELLO_TIMEOUT)
    return Running(state, answer.seq) if answer is not None else None


def find_or_start(directory: Path, key: str, wanted: Wanted, env: Mapping[str, str]) -> Running:
    """The running proxy for `key`, started first if there is none (one, however many
    wrappers ask at once). The caller holds `KEY.users`."""
    found = running(directory, key)
    if found is not None:
        return found
    with locked(start_lock(directory, key), exclusive=True):
        found = running(directory, key)
        if found is not None:
            return found
        try:
            return _start(directory, key, wanted, env)
        except OSError as exc:
            raise SharedProxyError(
                f"cannot start the shared proxy in {directory}: {exc} (FITWHEEL_EPHEMERAL=1 "
                "runs one of this run's own)"
            ) from None


def _profile_document(wanted: Wanted) -> tuple[dict[str, object], str]:
    """The profile to serve, detected or read, validated (a bad one fails here)."""
    from fitwheel.detect import detect_document
    from fitwheel.profile import profile_from_document

    document = detect_document(profile=wanted.profile)
    source = str(document.pop("fitwheel")["source"])
    profile_from_document(document, where=source)
    return document, source


def _start(directory: Path, key: str, wanted: Wanted, env: Mapping[str, str]) -> Running:
    from fitwheel.families import families_from
    from fitwheel.files import write_atomically
    from fitwheel.serve.sockets import listening_socket

    seconds = idle_exit(env)
    if wanted.network is not None:
        wanted.network.ssl_context()  # a bad CA bundle or client certificate fails here
    document, source = _profile_document(wanted)
    families_from(wanted.families, env, default=wanted.default_families)  # a bad one fails here
    profile_file = directory / f"{key}.profile.json"
    write_atomically(profile_file, json.dumps(document, indent=1).encode())
    try:
        sock = listening_socket(LOOPBACK, stable_port(key, os.getuid()))
    except OSError:
        sock = listening_socket(LOOPBACK, 0)  # taken: any port, recorded in the state
    with sock:
        state = ProxyState(
            key=key,
            port=sock.getsockname()[1],
            secret=os.urandom(32).hex(),
            fitwheel=__version__,
            upstreams=wanted.upstreams,
            profile_source=source,
            profile_file=str(profile_file),
            families=wanted.families,
            default_families=wanted.default_families,
            network=network_document(wanted.network),
            exit_when_idle=seconds,
            fd=sock.fileno(),
            started=time.time(),
        )
        write_state(directory, state)
        with open(directory / f"{key}.log", "wb") as log:
            process = subprocess.Popen(
                # -q: no line per request in the log of a proxy that may serve for days.
                [*_FITWHEEL, "-q", "serve", "--shared", str(state_path(directory, key))],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
                start_new_session=True,
                cwd="/",
                env=dict(env),
            )
        # It outlives this process by design: mark it as not ours to wait for (no warning
        # about a child still running when this object goes).
        process.returncode = 0
        state = replace(state, pid=process.pid)
        write_state(directory, state)
    return Running(state, 0)


def log_tail(directory: Path, key: str) -> str:
    """The last line of the proxy's log, for an error message."""
    try:
        lines = (directory / f"{key}.log").read_bytes()[-4096:].decode("utf-8", "replace")
    except OSError:
        return ""
    return next((line for line in reversed(lines.splitlines()) if line.strip()), "")
