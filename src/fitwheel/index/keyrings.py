"""Logins kept in the user's keyring, found the way pip finds them (`--keyring-provider`).

- `import`: the `keyring` Python package, when it is importable (an optional dependency):
  `keyring.get_credential(SERVICE, USERNAME)`, which some backends answer without a username.
- `subprocess`: the `keyring` command on PATH, `keyring get SERVICE USERNAME`: it needs the
  username, so the index URL must carry it (`https://USER@host/simple/`).
- `auto`: `import` when the package is there, else `subprocess` when the command is, else none.
- `disabled`: never.

The services tried, in order: the index URL (without user info), then its `host:port`, then
its host, as pip tries them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

KEYRING_TIMEOUT = 30.0
"""Seconds the keyring command may take (a backend may ask the user to unlock it)."""


def resolved_provider(provider: str) -> str:
    """`auto` made concrete: `import`, `subprocess` or `disabled`."""
    if provider != "auto":
        return provider
    import importlib.util

    if importlib.util.find_spec("keyring") is not None:
        return "import"
    return "subprocess" if shutil.which("keyring") else "disabled"


def lookup(provider: str, services: Sequence[str], username: str | None) -> tuple[str, str] | None:
    """(username, password) from the keyring for the first of `services` it knows."""
    provider = resolved_provider(provider)
    for service in services:
        if provider == "import":
            found = _imported(service, username)
        elif provider == "subprocess" and username:
            found = _command(service, username)
        else:
            return None
        if found is not None:
            return found
    return None


def _imported(service: str, username: str | None) -> tuple[str, str] | None:
    try:
        import keyring
    except ImportError:
        return None
    try:
        credential = keyring.get_credential(service, username)
        if credential is not None:
            return credential.username, credential.password
        if username:
            password = keyring.get_password(service, username)
            return None if password is None else (username, password)
    except Exception:
        return None
    return None


def _command(service: str, username: str) -> tuple[str, str] | None:
    executable = shutil.which("keyring")
    if executable is None:
        return None
    try:
        done = subprocess.run(
            [executable, "get", service, username],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=KEYRING_TIMEOUT,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    password = done.stdout.decode("utf-8", "replace").rstrip("\r\n")
    return (username, password) if password else None
