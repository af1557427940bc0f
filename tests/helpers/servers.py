"""Real misbehaving HTTP servers on 127.0.0.1, for error-path tests.

with hanging_server() as url: ...        # accepts connections, never answers
with status_server(500) as url: ...      # every request gets HTTP 500; `.hits` counts them
with endless_server() as url: ...        # answers 200 with a body that never ends
"""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def hanging_server() -> Iterator[str]:
    """A listening socket nobody accepts on: the kernel completes the handshake, then silence."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/simple/"


class StatusServer(ThreadingHTTPServer):
    status = 500
    hits = 0
    url = ""


class _Handler(BaseHTTPRequestHandler):
    server: StatusServer

    def do_GET(self) -> None:
        self.server.hits += 1
        body = b"<html><body>error</body></html>"
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def status_server(status: int) -> Iterator[StatusServer]:
    """A server answering `status` to everything; its URL is `server.url`."""
    server = StatusServer(("127.0.0.1", 0), _Handler)
    server.status = status
    server.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _EndlessHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()  # no length: the body ends when the connection does, i.e. never
        chunk = b"<a href='x'>x</a>" * 4096
        try:
            while True:
                self.wfile.write(chunk)
        except OSError:
            return  # the client gave up

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def endless_server() -> Iterator[str]:
    """A server whose every answer is an HTML body without end."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


JSON = "application/vnd.pypi.simple.v1+json"


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """(status, body) of a GET asking for PEP 691 JSON; an HTTP error is an answer, not raised."""
    request = urllib.request.Request(url, headers={"Accept": JSON})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
