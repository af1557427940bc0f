"""The shared proxy process itself: `fitwheel serve --shared STATE`, started by a wrapper.

It serves what its state file says, on the listening socket the wrapper bound and passed on,
with an ephemeral proxy's settings (an upstream that does not answer in 10 s is an error the
installer sees before it gives up), until it is stopped (SIGTERM, `fitwheel serve --stop`) or
has been idle for its `exit_when_idle` seconds while no wrapper holds it. Leaving, it removes
its state file, holding the locks that keep a wrapper from finding it half gone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path

from fitwheel.errors import SharedProxyError
from fitwheel.installers.shared.state import (
    forget,
    locked,
    network_options,
    read_state,
    start_lock,
    users_lock,
)

LOG = logging.getLogger("fitwheel.serve.shared")


def _hold(path: Path) -> int | None:
    """Lock `path` exclusively without waiting; the open descriptor, or None if it is held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def serve_shared(state_file: str) -> int:
    """Serve as the shared proxy `state_file` describes; 0 once it has left."""
    from fitwheel.detect import detect
    from fitwheel.families import families_from
    from fitwheel.installers.proxy import UPSTREAM_TIMEOUT
    from fitwheel.serve.app import DEFAULT_PROFILE, ServeConfig, make_app
    from fitwheel.serve.identity import Identity
    from fitwheel.serve.proxy import serve_client_settings
    from fitwheel.serve.server import serve_forever
    from fitwheel.serve.upstreams import Upstreams

    path = Path(state_file)
    directory = path.parent
    state = read_state(path)
    if state is None:
        raise SharedProxyError(f"{path}: not a shared proxy's state file")
    try:
        sock = socket.socket(fileno=state.fd)
    except OSError as exc:
        raise SharedProxyError(f"no listening socket at descriptor {state.fd}: {exc}") from None
    LOG.setLevel(logging.INFO)  # its start and end are logged under -q too
    settings = serve_client_settings(UPSTREAM_TIMEOUT).with_retries(0)
    network = network_options(state.network)
    if network is not None:
        settings = settings.with_network(network)
    config = ServeConfig(
        Upstreams(state.upstreams),
        {DEFAULT_PROFILE: detect(profile=state.profile_file)},
        client=settings,
        families=families_from(state.families, os.environ, default=state.default_families),
        identity=Identity(state.key, state.secret),
    )
    held: list[int] = []

    def may_exit() -> bool:
        # Held until the process ends: a wrapper waits for the proxy to be gone, then starts one.
        for lock in (start_lock(directory, state.key), users_lock(directory, state.key)):
            fd = _hold(lock)
            if fd is None:
                for other in held:
                    os.close(other)
                held.clear()
                return False
            held.append(fd)
        forget(directory, state.key, os.getpid())
        return True

    def ready(url: str) -> None:
        LOG.info(
            "shared proxy %s at %s/simple/ (pid %d), leaving after %g s idle",
            state.key,
            url,
            os.getpid(),
            state.exit_when_idle,
        )

    serve_forever(
        lambda: make_app(config),
        sock=sock,
        on_ready=ready,
        exit_when_idle=state.exit_when_idle,
        may_exit=may_exit,
    )
    if not held:  # stopped by a signal
        with locked(start_lock(directory, state.key), exclusive=True):
            forget(directory, state.key, os.getpid())
    LOG.info("shared proxy %s left", state.key)
    return 0
