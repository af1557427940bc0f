"""Start a real nginx on 127.0.0.1 serving a folder with the documented simple-index config.

    with start_nginx(out_dir, tmp_path) as server:
        urlopen(server.url + "demo/")          # server.url ends with "/"

`site_config` replaces the documented server block (it must contain `listen 127.0.0.1:8080;`
and `root /srv/simple;`, which are rewritten to a free port and `root`). Tests that use it
should carry `@requires_nginx`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.processes import stop

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
DOCUMENTED_CONFIG = Path(__file__).resolve().parents[2] / "docs" / "nginx-simple-index.conf"
requires_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx; CI installs it)"
)


def basic_auth_site(workdir: Path, user: str, password: str) -> str:
    """The documented server block behind HTTP basic auth for one user (for `site_config`).

    The password file uses nginx's `{PLAIN}` scheme; nginx ends the password at a `:`.
    """
    users = Path(workdir) / "users"
    users.write_text(f"{user}:{{PLAIN}}{password}\n")
    return DOCUMENTED_CONFIG.read_text().replace(
        "    root /srv/simple;\n",
        f'    root /srv/simple;\n    auth_basic "index";\n    auth_basic_user_file {users};\n',
    )


@dataclass(frozen=True)
class NginxServer:
    url: str
    access_log: Path

    def requests(self) -> list[str]:
        """The request lines nginx has logged so far."""
        if not self.access_log.exists():
            return []
        return self.access_log.read_text().splitlines()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], name: str = "nginx", log: Path | None = None
) -> None:
    """Wait until `process` listens on 127.0.0.1:`port` (10 s at most); its `log` on failure."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text() if log and log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start listening within 10 s")


@contextmanager
def start_nginx(
    root: Path,
    workdir: Path,
    site_config: str | None = None,
    *,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[NginxServer]:
    """Serve `root` on a free 127.0.0.1 port; nginx's files go under `workdir/nginx`. With
    `tls` (certificate chain, private key; PEM files), over HTTPS."""
    if NGINX is None:
        pytest.skip("nginx is not installed")
    work = Path(workdir) / "nginx"
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    listen = f"listen 127.0.0.1:{port};"
    if tls is not None:
        listen = (
            f"listen 127.0.0.1:{port} ssl;\n    ssl_certificate {tls[0]};\n"
            f"    ssl_certificate_key {tls[1]};"
        )
    site = (
        (site_config or DOCUMENTED_CONFIG.read_text())
        .replace("listen 127.0.0.1:8080;", listen)
        .replace("root /srv/simple;", f"root {Path(root).resolve()};")
    )
    (work / "site.conf").write_text(site)
    access_log, error_log = work / "access.log", work / "error.log"
    # Running as root, workers would drop to `nobody`, who cannot read pytest's tmp folders.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    mime = "include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
    (work / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {work}/nginx.pid;\nerror_log {error_log} warn;\n"
        "events { worker_connections 512; }\n"
        f"http {{\n{mime}default_type application/octet-stream;\n"
        f"access_log {access_log};\n"
        + "".join(
            f"{kind}_temp_path {work}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"include {work}/site.conf;\n}}\n"
    )
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(work),
            "-e",
            str(error_log),
            "-c",
            str(work / "nginx.conf"),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process, "nginx", error_log)
        scheme = "http" if tls is None else "https"
        yield NginxServer(f"{scheme}://127.0.0.1:{port}/", access_log)
    finally:
        stop(process)
