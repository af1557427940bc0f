"""One wrapper run behind the shared proxy: find (or start) it, run the installer against it,
then ask it what it handed out after the run began."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from fitwheel.installers.proxy import BuildCommand, ProxiedRun, run_command
from fitwheel.installers.shared.client import events_since
from fitwheel.installers.shared.key import proxy_key
from fitwheel.installers.shared.start import Wanted, find_or_start, log_tail
from fitwheel.installers.shared.state import (
    ensure_state_dir,
    locked,
    network_document,
    state_dir,
    users_lock,
)


def usable_state_dir(env: Mapping[str, str]) -> Path | None:
    """The shared proxies' folder, or None when it cannot be written (run ephemeral then)."""
    directory = state_dir(dict(env))
    try:
        ensure_state_dir(directory)
    except OSError:
        return None
    return directory


def run_behind_shared_proxy(
    directory: Path,
    wanted: Wanted,
    build: BuildCommand,
    env: Mapping[str, str] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> ProxiedRun:
    """Run the installer `build` makes against the shared proxy for `wanted`; its status, the
    builds handed out during the run and the last upstream failure when it failed.
    `meanwhile` runs while the installer does (see `run_command`).

    Builds the installer took from its own cache were not handed out and are not named. Other
    runs sharing the proxy at the same time may add their builds to this run's list.
    """
    env = os.environ if env is None else env
    key = proxy_key(
        wanted.upstreams,
        wanted.profile,
        wanted.families,
        wanted.default_families,
        env,
        network_document(wanted.network),
    )
    with locked(users_lock(directory, key), exclusive=False):
        proxy = find_or_start(directory, key, wanted, env)
        started = time.time()
        command, installer_env = build(proxy.state.url + "/simple/")
        status = run_command(command, installer_env, meanwhile)
        events = events_since(proxy.state.port, proxy.seq)
    if events is None:
        if status == 0:
            return ProxiedRun(status, None)
        why = log_tail(directory, key) or "no output"
        log = directory / f"{key}.log"
        return ProxiedRun(status, f"the shared proxy at {proxy.state.url} stopped ({log}: {why})")
    failure = events.failure if status != 0 else None
    return ProxiedRun(status, failure, events.chosen, events.offered, started)
