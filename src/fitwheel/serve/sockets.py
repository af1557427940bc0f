"""The listening socket, bound before anything heavy is imported (stdlib only).

`fitwheel pip` binds it, starts pip with its URL at once, and only then imports aiohttp to
serve on it: pip's first connections wait in the listen backlog meanwhile.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"
BACKLOG = 1024


def _base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def listening_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A socket bound and listening already: clients may connect (and wait in the backlog)
    before the application is imported and started on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def socket_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return _base_url(host, port)
