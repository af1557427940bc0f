"""Running the proxy: in the foreground (`fitwheel serve`) or in a background thread.

The background form is what `fitwheel pip` / `fitwheel uv` use: an ephemeral server on
127.0.0.1 with a port the kernel picks, whose URL is known once `start()` returns.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from fitwheel.serve import access
from fitwheel.serve.idle import ACTIVITY_KEY, Activity, wait_until_idle
from fitwheel.serve.limits import CappedConnections, ConnectionLimits
from fitwheel.serve.logs import quiet_client_errors
from fitwheel.serve.sockets import BACKLOG, LOOPBACK, listening_socket, socket_url

AppFactory = Callable[[], web.Application]

_ACCEPT_BATCH = 32


class _Serving:
    """An application answering on a listening socket, within `ConnectionLimits`."""

    def __init__(self, runner: web.AppRunner, listening: asyncio.Server) -> None:
        self.runner = runner
        self.listening = listening

    @classmethod
    async def start(
        cls,
        app: web.Application,
        sock: socket.socket,
        shutdown_timeout: float,
        limits: ConnectionLimits,
    ) -> _Serving:
        quiet_client_errors()
        capped = CappedConnections(limits.cap())
        app.middlewares.append(capped.middleware)
        runner = web.AppRunner(
            app,
            access_log=access.LOGGER,
            access_log_class=access.AccessLog,
            handle_signals=False,
            shutdown_timeout=shutdown_timeout,
            # From the connection's start, and not extended by bytes that do not finish a
            # request: a silent or trickling client is closed after it.
            keepalive_timeout=limits.idle_timeout,
        )
        await runner.setup()
        capped.server = runner.server
        loop = asyncio.get_running_loop()
        # asyncio accepts up to `backlog` sockets per wake-up before the protocol factory
        # (the cap) sees any of them: that batch stays small, and the kernel's queue of
        # connections waiting to be accepted is set to BACKLOG after asyncio's listen().
        listening = await loop.create_server(capped, sock=sock, backlog=_ACCEPT_BATCH)
        sock.listen(BACKLOG)
        return cls(runner, listening)

    async def stop(self) -> None:
        self.listening.close()
        await self.runner.cleanup()


class BackgroundServer:
    """The proxy on its own event loop in a daemon thread; a context manager.

    `app_factory` is called inside the server's loop, so client sessions made while building
    the application belong to that loop.
    """

    def __init__(
        self,
        app_factory: AppFactory,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        sock: socket.socket | None = None,
        shutdown_timeout: float = 1.0,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self._app_factory = app_factory
        self._sock = sock if sock is not None else listening_socket(host, port)
        # Stopping waits this long for requests in flight (one may be waiting on a slow
        # upstream); an ephemeral server's only client has exited by then.
        self._shutdown_timeout = shutdown_timeout
        self._limits = limits or ConnectionLimits()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fitwheel-serve")
        self._thread.daemon = True
        self._serving: _Serving | None = None
        self.url = ""

    def start(self) -> str:
        """Bind and start serving; return the base URL (`http://127.0.0.1:PORT`)."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        try:
            self.url = future.result()
        except BaseException:
            self._stop_loop()
            raise
        return self.url

    async def _start(self) -> str:
        self._serving = await _Serving.start(
            self._app_factory(), self._sock, self._shutdown_timeout, self._limits
        )
        return socket_url(self._sock)

    def stop(self) -> None:
        if self._serving is not None:
            asyncio.run_coroutine_threadsafe(self._serving.stop(), self._loop).result(timeout=30)
            self._serving = None
        self._stop_loop()
        self._sock.close()

    def _stop_loop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
        self._loop.close()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    app_factory: AppFactory,
    *,
    host: str = LOOPBACK,
    port: int = 8000,
    sock: socket.socket | None = None,
    on_ready: Callable[[str], None] | None = None,
    shutdown_timeout: float = 5.0,
    limits: ConnectionLimits | None = None,
    exit_when_idle: float | None = None,
    may_exit: Callable[[], bool] = lambda: True,
) -> None:
    """Serve in the foreground until SIGINT or SIGTERM, then close connections cleanly
    (requests in flight get `shutdown_timeout` seconds to finish).

    `sock`, when given, is a listening socket to serve on instead of binding `host:port` (the
    shared proxy's, bound by the wrapper that started it). With `exit_when_idle`, serving also
    ends once no request has been in progress for that many seconds and `may_exit()` agrees.
    """

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        listening = sock if sock is not None else listening_socket(host, port)
        app = app_factory()
        if ACTIVITY_KEY not in app:
            activity = Activity()
            app[ACTIVITY_KEY] = activity
            app.middlewares.append(activity.middleware)
        waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
        if exit_when_idle is not None:
            waiters.append(
                asyncio.ensure_future(wait_until_idle(app[ACTIVITY_KEY], exit_when_idle, may_exit))
            )
        serving = await _Serving.start(
            app, listening, shutdown_timeout, limits or ConnectionLimits()
        )
        try:
            if on_ready is not None:
                on_ready(socket_url(listening))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await serving.stop()
            listening.close()

    asyncio.run(main())
