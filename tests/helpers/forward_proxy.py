"""A real forward proxy (tinyproxy) on 127.0.0.1 that tunnels HTTPS with CONNECT and logs
each request, for tests of fitwheel behind a proxy.

    with start_tinyproxy(tmp_path) as proxy:
        env["HTTPS_PROXY"] = proxy.url
        ...
        assert proxy.connects_to("127.0.0.1:4443")

Tests that use it should carry `@requires_tinyproxy` (CI installs it with apt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.nginx import free_port, wait_for_port
from helpers.processes import stop

TINYPROXY = shutil.which("tinyproxy") or (
    "/usr/bin/tinyproxy" if Path("/usr/bin/tinyproxy").exists() else None
)
_IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
requires_tinyproxy = pytest.mark.skipif(
    TINYPROXY is None and not _IN_CI,
    reason="tinyproxy is not installed (apt-get install tinyproxy; CI does)",
)
"""Skips where tinyproxy is missing, except in CI (`CI` set), where `start_tinyproxy` fails."""


@dataclass(frozen=True)
class ForwardProxy:
    url: str
    log: Path

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def connects_to(self, host_port: str, *, since: int = 0) -> bool:
        """Whether a client asked the proxy to tunnel to `host_port` (CONNECT) after the log
        had `since` bytes."""
        if not self.log.exists():
            return False
        return f"CONNECT {host_port} " in self.log.read_bytes()[since:].decode(errors="replace")


@contextmanager
def start_tinyproxy(
    workdir: Path, *, login: tuple[str, str] | None = None
) -> Iterator[ForwardProxy]:
    """tinyproxy on a free 127.0.0.1 port, in the foreground, logging every connection; with
    `login` (user, password), only for clients that give it (HTTP 407 otherwise)."""
    if TINYPROXY is None:
        pytest.fail("CI is set and tinyproxy is missing (apt-get install tinyproxy)")
    work = Path(workdir) / ("tinyproxy-login" if login else "tinyproxy")
    work.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), work / "tinyproxy.log"
    (work / "tinyproxy.conf").write_text(
        f'Port {port}\nListen 127.0.0.1\nTimeout 60\nLogFile "{log}"\nLogLevel Connect\n'
        f'PidFile "{work}/tinyproxy.pid"\nMaxClients 64\nAllow 127.0.0.1\n'
        + (f"BasicAuth {login[0]} {login[1]}\n" if login else "")
    )
    process = subprocess.Popen(
        [TINYPROXY, "-d", "-c", str(work / "tinyproxy.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "tinyproxy", log)
        yield ForwardProxy(f"http://127.0.0.1:{port}", log)
    finally:
        stop(process)
