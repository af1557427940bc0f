"""How many connections the proxy holds, and for how long: what keeps idle sockets from
locking every client out.

- A connection that has not sent a whole request within `idle_timeout` seconds (a new one, or
  a kept-alive one between requests) is closed: slowly trickled headers do not extend it.
- At most `cap` connections are open, below the process's file-descriptor limit (each relayed
  download also holds an upstream socket). A newcomer beyond the cap takes the place of the
  oldest idle connection; when every connection is busy with a request, it gets a 503 at once.
- Refusals and closures are logged as one line per ten seconds with their counts, never one
  line (or a traceback) per socket.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler

if sys.platform != "win32":
    import resource

LOG = logging.getLogger(__name__)

_FDS_KEPT = 64
"""File descriptors kept for everything else (logs, the upstream page client, imports)."""

_BUSY_BODY = b"fitwheel serve: too many connections; try again\n"
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n"
) + _BUSY_BODY


@dataclass(frozen=True)
class ConnectionLimits:
    idle_timeout: float = 15.0
    """Seconds a connection may go without a whole request (new or between requests)."""
    max_connections: int | None = None
    """Connections held at once; None: as many as the file-descriptor limit allows."""

    def cap(self) -> int:
        if self.max_connections is not None:
            return self.max_connections
        if sys.platform == "win32":
            return 1024
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return 16384
        return max(8, (soft - _FDS_KEPT) // 2)


class _Busy(asyncio.Protocol):
    """A connection beyond the cap: a 503 and the door."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_BUSY)
        transport.close()


class CappedConnections:
    """The listening socket's protocol factory: aiohttp's handler, within the cap."""

    def __init__(self, cap: int) -> None:
        self.server: web.Server | None = None
        """aiohttp's protocol factory, once the application runner is set up."""
        self.cap = cap
        self.busy: set[RequestHandler] = set()
        """Connections with a request in progress (kept up to date by `middleware`)."""
        self.refused = 0
        self.closed_idle = 0
        self._reported = (0, 0)
        self._report_at = 0.0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        protocol = request.protocol
        self.busy.add(protocol)
        try:
            return await handler(request)
        finally:
            self.busy.discard(protocol)

    def __call__(self) -> asyncio.BaseProtocol:
        assert self.server is not None, "serving before the runner is set up"
        open_ = [h for h in self.server.connections if h.transport is not None]
        if len(open_) >= self.cap:
            idle = next((h for h in open_ if h not in self.busy), None)
            if idle is None:
                self.refused += 1
                self._report()
                return _Busy()
            idle.force_close()
            self.closed_idle += 1
            self._report()
        return self.server()

    def _report(self) -> None:
        now = time.monotonic()
        if now < self._report_at:
            return
        self._report_at = now + 10
        refused = self.refused - self._reported[0]
        closed = self.closed_idle - self._reported[1]
        self._reported = (self.refused, self.closed_idle)
        LOG.warning(
            "at the cap of %d connections: %d idle connections closed, %d refused with 503 "
            "(every connection busy) since the last report",
            self.cap,
            closed,
            refused,
        )
